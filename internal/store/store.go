// Package store keeps the App's state: installations, mirrors, per-ref
// last-synced state, sync history, encrypted credentials and App settings
// (Store), and webhook deliveries between acknowledgement and handling
// (Inbox). Callers see only the interfaces; the SQLite backend (embedded
// default, package sqlite) and any later backend (Postgres, for several
// replicas) pass the same conformance suite (package storetest).
package store

import (
	"context"
	"errors"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/release"
)

// Errors every backend returns, compared with errors.Is.
var (
	// ErrNotFound: no such row.
	ErrNotFound = errors.New("not found")
	// ErrNoKey: a secret was to be stored but no encryption key is
	// configured. The App refuses to store tokens in plain text.
	ErrNoKey = errors.New("no encryption key configured: set GITEE_MIRROR_SECRET_KEY (or _FILE) to store tokens")
	// ErrConflict: a unique constraint would be violated.
	ErrConflict = errors.New("conflict")
)

// Status is a mirror's state as people see it.
type Status string

// Statuses.
const (
	StatusNew      Status = "new"      // never synced
	StatusInSync   Status = "in-sync"  // last sync left every ref in sync
	StatusSyncing  Status = "syncing"  // a sync is running
	StatusDiverged Status = "diverged" // last sync left refs diverged
	StatusFailing  Status = "failing"  // last sync failed; will retry
	StatusPaused   Status = "paused"   // paused by a person, or after too many failures
)

// Installation is a GitHub App installation.
type Installation struct {
	ID          int64  // GitHub's installation id
	Account     string // login of the user or organisation
	AccountType string // "User" or "Organization"
	Suspended   bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Mirror is two sides and a direction: side A is the repository the App is
// installed on (GitHub, through the installation), side B the other one
// (Gitee, through a person's token).
type Mirror struct {
	ID             int64
	InstallationID int64
	GitHubRepoID   int64 // side A's repository id: stable across renames and transfers
	A              Side
	B              Side
	Direction      Direction

	Branches []string // glob filters, "!" excludes; empty = all
	Tags     []string
	NoTags   bool
	Force    bool
	Prune    bool

	CreateMissing bool   // create the Gitee repository if absent
	Visibility    string // "private", "public", or "source"

	// Releases mirrors published releases and their assets after the
	// refs (internal/release): source to target, both ways when
	// Direction is Both.
	Releases bool
	// LFS says whether Git LFS objects travel with the refs.
	LFS mirror.LFSMode

	// ConfigSource says where the settings came from: "file"
	// (.github/gitee-mirror.yml, which wins) or "settings" (the page).
	ConfigSource string
	ConfigSHA    string // blob sha of the config file last applied

	// HookID names the mirror in its Gitee webhook URL
	// (/webhooks/gitee/<HookID>): random, unguessable, not a secret
	// by itself (the Gitee secret authenticates deliveries).
	HookID string
	// HookSecret is the Gitee webhook secret of this mirror (signature
	// mode). Secret: stored encrypted, ErrNoKey without a key; never log.
	HookSecret string
	// HookRemoteID is the id side B's site gave the registered push
	// webhook, 0 if none is registered. (Side A's pushes arrive through
	// the App's installation.)
	HookRemoteID int64

	Paused       bool
	PausedReason string
	// PausedByFailures is true when the mirror was paused after too many
	// failed syncs (PauseAfterFailures), not by a person: a new push
	// resumes it (RequestSync with resume).
	PausedByFailures    bool
	ConsecutiveFailures int
	Status              Status // StatusPaused while Paused; the last one again on resume
	LastError           string // for a person; never a secret
	LastErrorClass      string // a failure.Class
	LastSyncAt          time.Time
	// SyncStartedAt is when the mirror's latest sync started (SetStatus
	// with StatusSyncing records it); zero if it never synced. The next
	// sync starts no sooner than the sync spacing after it.
	SyncStartedAt time.Time
	// RequestSeq grows by one for every sync request (webhook, reconcile,
	// "Sync now"). A worker notes it before syncing and runs again if it
	// moved meanwhile, so a push during a sync is never left behind.
	RequestSeq int64

	CreatedAt time.Time
	UpdatedAt time.Time
}

// Source is the side a one-way mirror copies from.
func (m *Mirror) Source() Side {
	if m.Direction == BToA {
		return m.B
	}
	return m.A
}

// Target is the side a one-way mirror copies to.
func (m *Mirror) Target() Side {
	if m.Direction == BToA {
		return m.A
	}
	return m.B
}

// MirrorFilter selects mirrors to list; zero fields match all.
type MirrorFilter struct {
	InstallationID int64
	GitHubRepoID   int64
	ActiveOnly     bool // not paused, installation not suspended
}

// SyncRun is one recorded sync.
type SyncRun struct {
	ID           int64
	MirrorID     int64
	Trigger      Trigger
	StartedAt    time.Time
	FinishedAt   time.Time // zero while running
	Outcome      Outcome
	ErrorClass   string
	ErrorMessage string
	Refs         []mirror.RefResult
	Bytes        int64
	// Releases is what became of the releases (Mirror.Releases); nil when
	// none were mirrored.
	Releases *release.Result
}

// Credential is a stored Gitee token, decrypted.
type Credential struct {
	InstallationID int64
	MirrorID       int64 // 0: serves every mirror of the installation
	Login          string
	Token          string // secret: never log
	UpdatedAt      time.Time
}

// Store is everything the App keeps. Implementations are safe for
// concurrent use.
type Store interface {
	// Ping checks that the database answers (for /readyz).
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error

	UpsertInstallation(ctx context.Context, in Installation) error
	// DeleteInstallation removes it with its mirrors, runs and credentials.
	DeleteInstallation(ctx context.Context, id int64) error
	SetInstallationSuspended(ctx context.Context, id int64, suspended bool) error
	GetInstallation(ctx context.Context, id int64) (*Installation, error)

	// CreateMirror inserts m and sets m.ID, m.HookID (if empty), times.
	// ErrConflict when the repository already mirrors to that target.
	CreateMirror(ctx context.Context, m *Mirror) error
	// UpdateMirrorSettings saves the settings fields of m (target,
	// direction, filters, force, prune, create-missing, visibility,
	// releases, LFS, config source and sha), not its sync status.
	UpdateMirrorSettings(ctx context.Context, m *Mirror) error
	GetMirror(ctx context.Context, id int64) (*Mirror, error)
	GetMirrorByHookID(ctx context.Context, hookID string) (*Mirror, error)
	ListMirrors(ctx context.Context, f MirrorFilter) ([]*Mirror, error)
	DeleteMirror(ctx context.Context, id int64) error
	// SetMirrorHook records the mirror's Gitee webhook: its secret
	// (encrypted; ErrNoKey without a key unless empty) and the id Gitee
	// gave it (0: none registered).
	SetMirrorHook(ctx context.Context, mirrorID int64, hookSecret string, remoteID int64) error
	// RenameRepository records a GitHub rename or transfer for every mirror
	// of that repository.
	RenameRepository(ctx context.Context, githubRepoID int64, owner, name string) error

	// RequestSync bumps the mirror's RequestSeq and returns the new value.
	// With resume, a mirror paused after failures is resumed (a new push
	// arrived); a mirror paused by a person stays paused.
	RequestSync(ctx context.Context, mirrorID int64, resume bool) (int64, error)
	// RequestSyncs is RequestSync for several mirrors at once (the
	// webhook forwarder's batch): it returns each one's new RequestSeq by
	// id, leaving out ids of mirrors that do not exist (deleted meanwhile).
	RequestSyncs(ctx context.Context, mirrorIDs []int64, resume bool) (map[int64]int64, error)
	// SetPaused pauses or resumes a mirror on a person's behalf; reason is
	// shown to people. A person's pause survives new pushes. Resuming
	// clears ConsecutiveFailures.
	SetPaused(ctx context.Context, mirrorID int64, paused bool, reason string) error
	// PauseAfterFailures pauses a mirror after too many failed syncs, with
	// reason (usually the last error) shown to people. A new push resumes
	// it (RequestSync with resume); a mirror a person paused stays paused
	// by the person.
	PauseAfterFailures(ctx context.Context, mirrorID int64, reason string) error
	// SetStatus records the mirror's status without touching anything
	// else, except that StatusSyncing also records now as SyncStartedAt.
	SetStatus(ctx context.Context, mirrorID int64, s Status) error

	// StartRun records a sync starting (Outcome "running") and sets run.ID.
	StartRun(ctx context.Context, run *SyncRun) error
	// FinishRun records the outcome of run ("ok", "diverged", "failed", or
	// "interrupted" when the App stopped during it) and updates its
	// mirror's status (in-sync, diverged, failing, failing), LastSyncAt,
	// LastError(Class) and ConsecutiveFailures (reset on ok or diverged, +1
	// on failed, unchanged on interrupted: a shutdown is not the mirror's
	// failure). It returns the new failure count. A run finishes once: a
	// second FinishRun is an error.
	FinishRun(ctx context.Context, run *SyncRun) (failures int, err error)
	// ListRuns returns the newest runs of a mirror first, at most limit
	// (all when limit <= 0).
	ListRuns(ctx context.Context, mirrorID int64, limit int) ([]*SyncRun, error)

	// RefState is the last-synced object id per ref of a mirror.
	RefState(ctx context.Context, mirrorID int64) (map[string]string, error)
	// SaveRefState replaces it.
	SaveRefState(ctx context.Context, mirrorID int64, refs map[string]string) error

	// SetCredential stores a Gitee token encrypted; ErrNoKey without a key.
	SetCredential(ctx context.Context, c Credential) error
	// GetCredential returns the token for a mirror: its own if set, else its
	// installation's. ErrNotFound when neither exists.
	GetCredential(ctx context.Context, installationID, mirrorID int64) (*Credential, error)
	DeleteCredential(ctx context.Context, installationID, mirrorID int64) error

	// Setting reads an App setting ("" and ErrNotFound when unset).
	Setting(ctx context.Context, key string) (string, error)
	// SetSetting stores one; secret values are encrypted (ErrNoKey
	// without a key).
	SetSetting(ctx context.Context, key, value string, secret bool) error

	// One-time states (states.go): what a sign-in or a registration
	// remembers between leaving for GitHub and coming back, in the
	// database so that any replica can take the return.
	States

	// Problems of repositories' settings files (problems.go).
	ConfigProblems
	// Leases of running syncs and request counters (lease.go), shared by
	// every replica.
	Leases

	// Progress of running syncs (progress.go).
	Progresses
}
