package jobs

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// reconcileWorker runs ReconcileArgs jobs: a sync job (trigger "reconcile")
// for every active mirror. A sync that finds nothing different is two ref
// listings and no run row, so this is the drift check. It does not bump
// request sequences: a mirror whose sync is already queued or running is
// being checked anyway.
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
	for _, m := range ms {
		if err := w.q.enqueueSync(ctx, m.ID, store.TriggerReconcile); err != nil {
			return err
		}
	}
	w.q.log.Debug("reconcile enqueued syncs", slog.Int("mirrors", len(ms)))
	return nil
}
