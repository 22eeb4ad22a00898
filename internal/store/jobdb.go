package store

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// JobDB is the database the job queue (River) works in, as a store backend
// provides it: the SQLite file through River's SQLite driver, or the
// Postgres database through its Postgres driver. The jobs package sees only
// this, so it depends on no database driver.
type JobDB interface {
	// MigrateJobs applies River's migrations.
	MigrateJobs(ctx context.Context, log *slog.Logger) error
	// NewJobClient makes a River client on the database.
	NewJobClient(cfg *river.Config) (JobClient, error)
	// JobDepth counts jobs waiting or running (available, running,
	// retryable, scheduled).
	JobDepth(ctx context.Context) (int, error)
	// LockKey takes a lock on key (a mirror, a repository) that every
	// process sharing the database sees, and returns its release. It
	// orders a sync request against the end of that mirror's running job,
	// so that a request is never dropped as a duplicate of a job that is
	// finishing.
	LockKey(ctx context.Context, key string) (unlock func(), err error)
	// LockKeys is LockKey for several keys, held together until the
	// returned release (the webhook forwarder's batch of sync requests).
	// Keys are taken in a fixed order, so that callers whose keys overlap
	// cannot wait for each other in a circle; a key given twice is taken
	// once.
	LockKeys(ctx context.Context, keys []string) (unlock func(), err error)
	// AbandonJob finalizes a job whose worker died (its lease lapsed): it
	// moves the job from running to cancelled, with reason among its
	// errors, as River's own rescuer does, so that a fresh job can take its
	// place. It changes nothing unless the job is still running the attempt
	// that started at attemptedAt. A worker that turns out to be alive
	// after all then finds its job finalized: its own completion changes
	// nothing.
	AbandonJob(ctx context.Context, id int64, attemptedAt time.Time, reason string) error
	// QueueUI is River UI for the database's queue, served under prefix.
	QueueUI(prefix string, log *slog.Logger) (QueueUI, error)
}

// QueueUI is River UI: pages and an API that show the queue's jobs and
// let an operator retry or cancel them. Start starts its background work
// until ctx ends.
type QueueUI interface {
	http.Handler
	Start(ctx context.Context) error
}

// JobClient is what the job queue uses of a River client.
type JobClient interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	InsertMany(ctx context.Context, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
	JobRetry(ctx context.Context, id int64) (*rivertype.JobRow, error)
	Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func())
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
	JobGet(ctx context.Context, id int64) (*rivertype.JobRow, error)
	// CompleteRunning marks the running job completed in a transaction of
	// its own; ctx must be the worker's.
	CompleteRunning(ctx context.Context, job *rivertype.JobRow) error
}
