package jobs

import (
	"context"
	"fmt"

	"github.com/riverqueue/river"
)

// settle ends a job that is not to be retried. Under the key's lock (which
// requests hold while they record themselves and insert), it asks moved
// whether a request arrived since the job read its state: if so the job
// snoozes for zero seconds and runs again at once; if not, it is marked
// completed in the database before the lock is released, so the next
// request finds no live job and inserts a new one. With cause, the job was
// a permanent failure: it is completed all the same (nothing to retry) and
// cause is returned wrapped in river.JobCancel for River's logs.
func settle[T river.JobArgs](ctx context.Context, q *Queue, key string, job *river.Job[T], moved func(context.Context) (bool, error), cause error) error {
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
		return river.JobSnooze(0)
	}
	if err := q.client.CompleteRunning(ctx, job.JobRow); err != nil {
		return err
	}
	if cause != nil {
		return river.JobCancel(cause)
	}
	return nil
}
