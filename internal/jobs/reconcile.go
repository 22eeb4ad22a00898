package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// reconcileBatch is how many sync jobs one insert of a reconcile round
// carries: a round of 10,000 mirrors is 20 statements, not 10,000.
const reconcileBatch = 500

// reconcileWorker runs ReconcileArgs jobs: a sync job (trigger "reconcile")
// for every active mirror. A sync that finds nothing different is two ref
// listings and no run row, so this is the drift check. It does not bump
// request sequences: a mirror whose sync is already queued or running is
// being checked anyway.
//
// The syncs of a round are spread evenly over Config.ReconcileSpread (the
// interval by default), in mirror id order, so that each mirror is checked
// once an interval at about the same point of it, and the queue never holds
// a whole round at once: a push to any mirror would otherwise wait behind
// thousands of reconcile jobs, and every replica would list every mirror's
// refs in the same minute. A push to a mirror whose reconcile sync is
// scheduled later brings that job forward (enqueueSync).
type reconcileWorker struct {
	river.WorkerDefaults[ReconcileArgs]
	q *Queue
}

// Work implements river.Worker.
func (w *reconcileWorker) Work(ctx context.Context, job *river.Job[ReconcileArgs]) error {
	ms, err := w.q.cfg.Store.ListMirrors(ctx, store.MirrorFilter{ActiveOnly: true})
	if err != nil {
		return fmt.Errorf("error listing mirrors to reconcile: %w", err)
	}
	spread := w.q.cfg.reconcileSpread()
	start := time.Now()
	batch := make([]river.InsertManyParams, 0, min(len(ms), reconcileBatch))
	for i, m := range ms {
		opts := &river.InsertOpts{MaxAttempts: w.q.cfg.maxAttempts()}
		if spread > 0 {
			opts.ScheduledAt = start.Add(spreadOffset(spread, i, len(ms)))
		}
		batch = append(batch, river.InsertManyParams{Args: SyncArgs{MirrorID: m.ID, Trigger: store.TriggerReconcile}, InsertOpts: opts})
		if len(batch) == reconcileBatch || i == len(ms)-1 {
			// Mirrors whose sync is still queued or running are skipped as
			// duplicates: a round that falls behind slips, it does not pile up.
			if _, err := w.q.client.InsertMany(ctx, batch); err != nil {
				return fmt.Errorf("error enqueueing reconcile syncs of %d mirrors: %w", len(ms), err)
			}
			batch = batch[:0]
		}
	}
	w.q.log.Debug("reconcile enqueued syncs", slog.Int("mirrors", len(ms)), slog.Duration("spread", spread))
	return nil
}

// spreadOffset is when, after the start of a round spread over d, the i-th
// of n mirrors is synced: evenly, the first at once.
func spreadOffset(d time.Duration, i, n int) time.Duration {
	if n <= 0 || d <= 0 {
		return 0
	}
	return time.Duration(int64(d) / int64(n) * int64(i))
}
