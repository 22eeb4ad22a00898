package jobs

import (
	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// uniqueStates are the job states in which a job blocks a duplicate: every
// state in which it will still run, including running itself (River
// requires it). Completed, cancelled and discarded jobs block nothing.
var uniqueStates = []rivertype.JobState{
	rivertype.JobStateAvailable,
	rivertype.JobStatePending,
	rivertype.JobStateRetryable,
	rivertype.JobStateRunning,
	rivertype.JobStateScheduled,
}

// SyncArgs is a sync job: one per mirror in the queue at a time.
type SyncArgs struct {
	MirrorID int64         `json:"mirror_id" river:"unique"`
	Trigger  store.Trigger `json:"trigger"`
	// Hints are what the push that inserted the job said its ref now is
	// (mirror.Options.Hints). Requests that join the job later do not
	// change its arguments, so the hints are used while no other request
	// has come since (Seq), and otherwise only on the job's first run.
	Hints map[string]string `json:"hints,omitempty"`
	// Seq is the mirror's request counter (store.Mirror.RequestSeq) as
	// the request that inserted the job left it; 0 when unknown.
	Seq int64 `json:"seq,omitempty"`
}

// Kind implements river.JobArgs.
func (SyncArgs) Kind() string { return "gitee_mirror.sync" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (SyncArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: uniqueStates}}
}

// ApplyConfigArgs re-reads one repository's .github/gitee-mirror.yml.
type ApplyConfigArgs struct {
	InstallationID int64  `json:"installation_id"`
	RepoID         int64  `json:"repo_id" river:"unique"`
	Owner          string `json:"owner"`
	Name           string `json:"name"`
}

// Kind implements river.JobArgs.
func (ApplyConfigArgs) Kind() string { return "gitee_mirror.apply_config" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (ApplyConfigArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: uniqueStates}}
}

// ReconcileArgs enqueues a sync of every active mirror.
type ReconcileArgs struct{}

// Kind implements river.JobArgs.
func (ReconcileArgs) Kind() string { return "gitee_mirror.reconcile" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (ReconcileArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: uniqueStates}}
}
