// Package riverdb adapts a River driver to store.JobDB, once for every
// transaction type: the SQLite and Postgres backends each give it their
// driver and how to begin a transaction.
package riverdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// Tx begins a transaction and returns it with its commit and rollback.
type Tx[TTx any] func(ctx context.Context) (tx TTx, commit, rollback func(context.Context) error, err error)

// Locker takes a lock on a key across every process that shares the
// database.
type Locker func(ctx context.Context, key string) (unlock func(), err error)

// ManyLocker takes the locks of several keys at once, as LockKeys
// describes: keys sorted and without repeats.
type ManyLocker func(ctx context.Context, keys []string) (unlock func(), err error)

// DB is a store.JobDB over a River driver.
type DB[TTx any] struct {
	driver   riverdriver.Driver[TTx]
	begin    Tx[TTx]
	lock     Locker
	lockMany ManyLocker
}

var _ store.JobDB = (*DB[any])(nil)

// New returns the JobDB of driver; lock serves LockKey, and lockMany
// LockKeys (nil: lock, one key after another).
func New[TTx any](driver riverdriver.Driver[TTx], begin Tx[TTx], lock Locker, lockMany ManyLocker) *DB[TTx] {
	return &DB[TTx]{driver: driver, begin: begin, lock: lock, lockMany: lockMany}
}

// migrateKey is the lock River's migrations run under.
const migrateKey = "river:migrate"

// MigrateJobs implements store.JobDB. Replicas that start together take
// turns: River's migrator does not lock, and two running one migration at
// once fail on the objects the other created.
func (d *DB[TTx]) MigrateJobs(ctx context.Context, log *slog.Logger) error {
	unlock, err := d.lock(ctx, migrateKey)
	if err != nil {
		return fmt.Errorf("error waiting for another replica's job queue migrations: %w", err)
	}
	defer unlock()
	migrator, err := rivermigrate.New(d.driver, &rivermigrate.Config{Logger: log})
	if err != nil {
		return fmt.Errorf("error preparing job queue migrations: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("error migrating job queue tables: %w", err)
	}
	return nil
}

// NewJobClient implements store.JobDB.
func (d *DB[TTx]) NewJobClient(cfg *river.Config) (store.JobClient, error) {
	c, err := river.NewClient(d.driver, cfg)
	if err != nil {
		return nil, err
	}
	return &client[TTx]{Client: c, db: d}, nil
}

// NewClient is an unstarted River client on the database, for what reads
// or inserts jobs without working them (the queue's web UI).
func (d *DB[TTx]) NewClient(cfg *river.Config) (*river.Client[TTx], error) {
	return river.NewClient(d.driver, cfg)
}

// JobDepth implements store.JobDB.
func (d *DB[TTx]) JobDepth(ctx context.Context) (int, error) {
	exec := d.driver.GetExecutor()
	total := 0
	for _, s := range []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled} {
		n, err := exec.JobCountByState(ctx, &riverdriver.JobCountByStateParams{State: s})
		if err != nil {
			return 0, fmt.Errorf("error counting %s jobs: %w", s, err)
		}
		total += n
	}
	return total, nil
}

// LockKey implements store.JobDB.
func (d *DB[TTx]) LockKey(ctx context.Context, key string) (func(), error) {
	return d.lock(ctx, key)
}

// LockKeys implements store.JobDB: the keys are taken in sorted order, so
// that two callers whose keys overlap never wait for each other in a
// circle.
func (d *DB[TTx]) LockKeys(ctx context.Context, keys []string) (func(), error) {
	keys = slices.Clone(keys)
	slices.Sort(keys)
	keys = slices.Compact(keys)
	if d.lockMany != nil {
		return d.lockMany(ctx, keys)
	}
	unlocks := make([]func(), 0, len(keys))
	unlockAll := func() {
		for _, u := range slices.Backward(unlocks) {
			u()
		}
	}
	for _, k := range keys {
		u, err := d.lock(ctx, k)
		if err != nil {
			unlockAll()
			return nil, err
		}
		unlocks = append(unlocks, u)
	}
	return unlockAll, nil
}

// AbandonJob implements store.JobDB with River's rescue statement, the one
// its stuck-job rescuer runs: it changes a job only while it is running an
// attempt that started before the horizon.
func (d *DB[TTx]) AbandonJob(ctx context.Context, id int64, attemptedAt time.Time, reason string) error {
	now := time.Now().UTC()
	errData, err := json.Marshal(rivertype.AttemptError{At: now, Error: reason})
	if err != nil {
		return fmt.Errorf("error abandoning job %d: %w", id, err)
	}
	// Times are kept to the millisecond (SQLite) or microsecond
	// (Postgres): a millisecond past the attempt's start matches that
	// attempt and no later one.
	_, err = d.driver.GetExecutor().JobRescueMany(ctx, &riverdriver.JobRescueManyParams{
		ID:           []int64{id},
		Error:        [][]byte{errData},
		FinalizedAt:  []*time.Time{&now},
		ScheduledAt:  []time.Time{now},
		State:        []string{string(rivertype.JobStateCancelled)},
		StuckHorizon: attemptedAt.Add(time.Millisecond),
	})
	if err != nil {
		return fmt.Errorf("error abandoning job %d: %w", id, err)
	}
	return nil
}

// client is a River client with CompleteRunning.
type client[TTx any] struct {
	*river.Client[TTx]
	db *DB[TTx]
}

// noArgs stands for any job's args: completing a job needs its row only.
type noArgs struct{}

func (noArgs) Kind() string { return "" }

// CompleteRunning implements store.JobClient.
func (c *client[TTx]) CompleteRunning(ctx context.Context, row *rivertype.JobRow) error {
	tx, commit, rollback, err := c.db.begin(ctx)
	if err != nil {
		return fmt.Errorf("error completing job %d: %w", row.ID, err)
	}
	if _, err := river.JobCompleteTx[riverdriver.Driver[TTx]](ctx, tx, &river.Job[noArgs]{JobRow: row}); err != nil {
		return fmt.Errorf("error completing job %d: %w", row.ID, errors.Join(err, rollback(ctx)))
	}
	if err := commit(ctx); err != nil {
		return fmt.Errorf("error completing job %d: %w", row.ID, err)
	}
	return nil
}
