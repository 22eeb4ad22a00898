package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
)

// storedTimeSlack covers how River stores a snoozed job's time: its
// SQLite driver rounds to the millisecond, so without it a job could be
// fetched up to a millisecond before the time it was snoozed to.
const storedTimeSlack = time.Millisecond

// settle ends a job that is not to be retried. Under the key's lock (which
// requests hold while they record themselves and insert), it asks moved
// whether a request arrived since the job read its state: if so the job
// snoozes and runs again at notBefore, or at once when that has passed
// (the zero time); if not, it is marked completed in the database before
// the lock is released, so the next request finds no live job and inserts
// a new one. With cause, the job was a permanent failure: it is completed
// all the same (nothing to retry) and cause is returned wrapped in
// river.JobCancel for River's logs.
func settle[T river.JobArgs](ctx context.Context, q *Queue, key string, job *river.Job[T], notBefore time.Time, moved func(context.Context) (bool, error), cause error) error {
	unlock, err := q.cfg.DB.LockKey(ctx, key)
	if err != nil {
		return err
	}
	defer unlock()
	again, err := moved(ctx)
	if err != nil {
		return fmt.Errorf("error checking for new requests: %w", err)
	}
	if again {
		// The job stays live while it waits: requests meanwhile join it,
		// and it reads them all when it runs.
		return river.JobSnooze(snoozeUntil(notBefore))
	}
	if err := q.client.CompleteRunning(ctx, job.JobRow); err != nil {
		return err
	}
	if cause != nil {
		return river.JobCancel(cause)
	}
	return nil
}

// snoozeUntil is how long a job snoozes to run again no sooner than t: 0
// when t has passed.
func snoozeUntil(t time.Time) time.Duration {
	d := time.Until(t)
	if d <= 0 {
		return 0
	}
	return d + storedTimeSlack
}
