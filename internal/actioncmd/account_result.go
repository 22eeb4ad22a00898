package actioncmd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// status is what happened to one repository. The strings are part of the
// report's contract.
type status string

const (
	statusMirrored status = "mirrored" // every ref in sync
	statusDiverged status = "diverged" // some refs diverged (or, two-way, are in conflict); none failed
	statusKept     status = "kept"     // prune kept some refs (out of sync); none failed or diverged
	statusFailed   status = "failed"   // the repository or some of its refs failed
	statusSkipped  status = "skipped"  // not mirrored, on purpose (see note)
	statusPlanned  status = "planned"  // dry run: the destination would be created
)

// repoResult is one repository of an account-mode run: a row of the
// summary and an entry of the report, with the sync's Result (every ref)
// inline.
type repoResult struct {
	Source         string          `json:"source"`      // OWNER/NAME
	Destination    string          `json:"destination"` // OWNER/NAME
	SourceURL      string          `json:"source_url,omitempty"`
	DestinationURL string          `json:"destination_url,omitempty"`
	Status         status          `json:"status"`
	Created        bool            `json:"created,omitempty"`  // the destination was created by this run
	Note           string          `json:"note,omitempty"`     // why skipped; what was done besides refs
	Changed        int             `json:"changed"`            // refs written
	Diverged       int             `json:"diverged"`           // refs skipped as diverged
	Conflicts      int             `json:"conflicts"`          // two-way: refs changed on both sides
	Kept           int             `json:"kept"`               // refs prune kept: out of sync
	Failed         int             `json:"failed"`             // refs failed, rejected or refused
	Error          *reportError    `json:"error,omitempty"`    // why the repository failed as a whole
	Time           time.Duration   `json:"time_ns"`            // the whole repository: API calls and sync
	Releases       *releasesReport `json:"releases,omitempty"` // with the releases input
	*mirror.Result
	filtered bool // left out by include or exclude: counted, not listed
}

// record takes in a sync's outcome; prune is the policy it ran with.
func (r *repoResult) record(res *mirror.Result, err error, prune bool) {
	r.Result = res
	if res != nil {
		r.Changed = len(res.Changed())
		r.Diverged = res.Count(mirror.Diverged)
		r.Conflicts = len(res.Conflicts())
		r.Kept = countKept(res, prune)
		for _, ref := range res.Refs {
			if !ref.OK() && ref.Outcome != mirror.Diverged && ref.Outcome != mirror.Conflict {
				r.Failed++
			}
		}
	}
	switch {
	case err != nil:
		r.fail(err)
	case r.Failed > 0 || !lfsComplete(res):
		r.Status = statusFailed
	case r.Diverged > 0 || r.Conflicts > 0:
		r.Status = statusDiverged
	case r.Kept > 0:
		r.Status = statusKept
	case res != nil && res.NoOp && !hasSourceRefs(res):
		r.Status, r.Note = statusSkipped, skipEmpty
	default:
		r.Status = statusMirrored
	}
}

// fail marks the repository failed as a whole.
func (r *repoResult) fail(err error) {
	r.Status = statusFailed
	r.Error = &reportError{Class: failure.ClassOf(err), Message: err.Error()}
	if errors.Is(err, context.Canceled) {
		r.Error.Message = "interrupted before it finished"
	}
}

// hasSourceRefs reports whether the source had any ref in scope.
func hasSourceRefs(res *mirror.Result) bool {
	for _, ref := range res.Refs {
		if ref.Source != "" {
			return true
		}
	}
	return false
}

// repoDetail says in a line what happened: the error, the first bad ref, or
// what changed.
func repoDetail(r repoResult) string {
	var parts []string
	if r.Error != nil {
		msg := r.Error.Message
		if c := string(r.Error.Class); c != "" && !strings.Contains(msg, c+": ") {
			msg = c + ": " + msg
		}
		parts = append(parts, msg)
	}
	if r.Result != nil {
		bad := 0
		prune := r.Kept > 0 // only then are kept refs out of sync
		for _, ref := range r.Refs {
			if ref.OK() && !keptOutOfSync(ref, prune) {
				continue
			}
			if bad++; bad == 1 {
				parts = append(parts, ref.Ref+": "+join(": ", string(ref.Outcome), refMessage(ref)))
			}
		}
		if bad > 1 {
			parts = append(parts, fmt.Sprintf("and %d more refs (see the report)", bad-1))
		}
	}
	if r.Note != "" {
		parts = append(parts, r.Note)
	}
	if r.Status == statusMirrored && r.Changed > 0 {
		parts = append(parts, plural(r.Changed, "ref", "refs")+" changed")
	}
	return oneLine(strings.Join(parts, "; "))
}

// seconds formats a duration for tables: 0.4s, 12.3s, 2m5s.
func seconds(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}
