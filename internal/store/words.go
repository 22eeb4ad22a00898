package store

import (
	"fmt"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/forge"
)

// Side is one repository of a mirror: a site and owner/name on it.
type Side struct {
	Site  forge.Site
	Owner string
	Name  string
}

// FullName is "owner/name".
func (s Side) FullName() string { return s.Owner + "/" + s.Name }

// Direction of a mirror: which side is the source. Stored as it is.
type Direction string

// Directions.
const (
	AToB Direction = "a-to-b" // side A is the source: GitHub → Gitee, "push"
	BToA Direction = "b-to-a" // side B is the source: Gitee → GitHub, "pull"
	// Both makes the sides peers (DESIGN.md's two-way table): a push on
	// either reaches the other; a ref changed on both since the last sync
	// is a conflict, left alone on both and reported. "both".
	Both Direction = "both"
)

// The words people write for a direction in .github/gitee-mirror.yml and
// on the pages (the App's side A is GitHub).
const (
	WordPush = "push"
	WordPull = "pull"
	WordBoth = "both"
)

// DirectionOf reads a direction as people write it ("push", "pull",
// "both").
func DirectionOf(word string) (Direction, error) {
	switch word {
	case WordPush:
		return AToB, nil
	case WordPull:
		return BToA, nil
	case WordBoth:
		return Both, nil
	}
	return "", fmt.Errorf("direction %q is not %s (GitHub to Gitee), %s (Gitee to GitHub) or %s (two-way)", word, WordPush, WordPull, WordBoth)
}

// Word is the direction as people write it.
func (d Direction) Word() string {
	switch d {
	case AToB:
		return WordPush
	case BToA:
		return WordPull
	case Both:
		return WordBoth
	}
	return string(d)
}

// TwoWay reports whether the sides are peers (Both).
func (d Direction) TwoWay() bool { return d == Both }

// FromA reports whether side A's pushes feed the mirror.
func (d Direction) FromA() bool { return d != BToA }

// FromB reports whether side B's pushes feed the mirror.
func (d Direction) FromB() bool { return d != AToB }

// Trigger says what asked for a sync run.
type Trigger string

// SyncRequest asks for a sync of one mirror, as one of several requested
// together (the webhook forwarder's batch, jobs.Queue.RequestSyncs).
type SyncRequest struct {
	MirrorID int64
	Trigger  Trigger
	// Resume resumes a mirror paused after failures (Store.RequestSync).
	Resume bool
	// Hints are what a push said its refs now are (ref → commit), or nil.
	Hints map[string]string
}

// Triggers.
const (
	TriggerPush        Trigger = "push"        // a GitHub push webhook
	TriggerGiteePush   Trigger = "gitee-push"  // a Gitee push hook
	TriggerReconcile   Trigger = "reconcile"   // the periodic drift check
	TriggerManual      Trigger = "manual"      // "Sync now", or a new token
	TriggerConfig      Trigger = "config"      // the mirror's settings changed
	TriggerPermissions Trigger = "permissions" // the installation accepted new permissions
	TriggerUnarchived  Trigger = "unarchived"  // the GitHub repository was unarchived
	TriggerRecovered   Trigger = "recovered"   // a sync whose process died runs again
	TriggerRelease     Trigger = "release"     // a GitHub release was published or edited
)

// Outcome of a sync run.
type Outcome string

// Outcomes.
const (
	OutcomeRunning  Outcome = "running"
	OutcomeOK       Outcome = "ok"
	OutcomeDiverged Outcome = "diverged"
	OutcomeFailed   Outcome = "failed"
	// OutcomeInterrupted: the App stopped during the sync; it runs again
	// after the restart and does not count toward the pause.
	OutcomeInterrupted Outcome = "interrupted"
)

// Where a mirror's settings come from (Mirror.ConfigSource).
const (
	SourceFile     = "file"     // .github/gitee-mirror.yml, which wins
	SourceSettings = "settings" // the settings page
)

// HookPath is where a mirror's side-B webhook delivers, under the App's
// base URL: HookPath + Mirror.HookID.
const HookPath = "/webhooks/gitee/"

// HookURL is the URL of m's side-B webhook under the App's base URL.
func (m *Mirror) HookURL(base string) string {
	return strings.TrimSuffix(base, "/") + HookPath + m.HookID
}

// DefaultSites fills the sides' sites the App leaves unset: side A is a
// GitHub repository, side B a Gitee one. Backends call it before writing.
func (m *Mirror) DefaultSites() {
	if m.A.Site == "" {
		m.A.Site = forge.GitHub
	}
	if m.B.Site == "" {
		m.B.Site = forge.Gitee
	}
}
