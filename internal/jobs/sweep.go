package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/logkey"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// sweepBatch bounds the running sync jobs one sweep looks at; at most
// Workers per process run at once, so this covers hundreds of replicas.
const sweepBatch = 1000

// deadRunsScan is how many of a mirror's newest runs are checked for ones a
// dead worker left running: one per rescue, a few if several died in a row.
const deadRunsScan = 10

// deadRunMessage is recorded for a run whose worker died.
const deadRunMessage = "interrupted: the process running this sync died (its lease lapsed); the mirror was synced again"

// abandonReason is recorded among the errors of a job taken for dead.
const abandonReason = "the process running this sync stopped renewing its lease (it died or lost the database); the mirror is synced again by a fresh job"

// sweep looks for sync jobs that are marked running but whose worker is
// gone: running for longer than a lease lasts (a live worker took its
// lease in its first moments) and whose lease lapsed. Each is finalized
// and replaced by a fresh job, which any live worker then runs.
//
// A running job without any lease is either one whose worker died before
// taking it, or one whose worker has just released it and whose end River
// has not recorded yet (a retry or snooze is recorded after the worker
// returns). Such a job is taken for dead only when it was seen so, the
// same attempt, a lease's lifetime earlier.
func (q *Queue) sweep(ctx context.Context) error {
	params := river.NewJobListParams().Kinds(SyncArgs{}.Kind()).States(rivertype.JobStateRunning).First(sweepBatch)
	res, err := q.client.JobList(ctx, params)
	if err != nil {
		return fmt.Errorf("error listing running syncs: %w", err)
	}
	seenLeaseless := make(map[int64]sighting, len(q.leaseless))
	for _, row := range res.Jobs {
		if !q.mayBeDead(row) {
			continue
		}
		var args SyncArgs
		if err := json.Unmarshal(row.EncodedArgs, &args); err != nil {
			q.log.Warn("running sync job with unreadable arguments", slog.Int64(logkey.JobID, row.ID), slog.Any(logkey.Error, err))
			continue
		}
		l, err := q.cfg.Store.GetLease(ctx, mirrorKey(args.MirrorID))
		leaseless := false
		switch {
		case err == nil && l.JobID == row.ID:
			// Its own lease: dead if that lapsed.
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return err
		default:
			leaseless = true
			seen, ok := q.leaseless[row.ID]
			if !ok || !seen.attempt.Equal(*row.AttemptedAt) {
				seen = sighting{attempt: *row.AttemptedAt, at: time.Now()}
			}
			seenLeaseless[row.ID] = seen
			if time.Since(seen.at) < q.cfg.LeaseTTL {
				continue
			}
		}
		if err := q.rescue(ctx, row, args, leaseless); err != nil {
			return err
		}
	}
	q.leaseless = seenLeaseless
	return nil
}

// sighting is when the sweeper first saw a running job without a lease.
type sighting struct {
	attempt time.Time // the job's attempt, which must not change
	at      time.Time
}

// mayBeDead reports whether a running sync job has run longer than a
// lease lasts, so that a live worker would hold a lease on it by now.
func (q *Queue) mayBeDead(row *rivertype.JobRow) bool {
	return row.State == rivertype.JobStateRunning && row.AttemptedAt != nil && time.Since(*row.AttemptedAt) >= q.cfg.LeaseTTL
}

// rescue runs rescueLocked under the mirror's lock.
func (q *Queue) rescue(ctx context.Context, row *rivertype.JobRow, args SyncArgs, leaseless bool) error {
	unlock, err := q.cfg.DB.LockKey(ctx, mirrorKey(args.MirrorID))
	if err != nil {
		return err
	}
	defer unlock()
	_, err = q.rescueLocked(ctx, row, args.MirrorID, args.Trigger, leaseless)
	return err
}

// rescueLocked replaces a running sync job whose lease lapsed with a fresh
// job, and reports whether it did; with leaseless, the job is one that
// was seen without a lease long enough. It takes the lapsed lease first,
// so that it acts only on a lease that lapsed (a live worker renewing at
// that moment wins) and so that a worker that was only stalled cannot
// renew afterwards, and stops. The caller holds the mirror's lock.
func (q *Queue) rescueLocked(ctx context.Context, row *rivertype.JobRow, mirrorID int64, trigger store.Trigger, leaseless bool) (bool, error) {
	log := q.log.With(slog.Int64(logkey.MirrorID, mirrorID), slog.Int64(logkey.JobID, row.ID))
	var was string // the holder of the job's own lease
	old, err := q.cfg.Store.GetLease(ctx, mirrorKey(mirrorID))
	switch {
	case err == nil && old.JobID == row.ID:
		was = old.Holder
	case err == nil, errors.Is(err, store.ErrNotFound):
		if !leaseless {
			return false, nil // released, or taken by another job, since
		}
	default:
		return false, fmt.Errorf("error reading the lease of a running sync of mirror %d: %w", mirrorID, err)
	}
	sweeper := store.Lease{Key: mirrorKey(mirrorID), Holder: q.cfg.Holder + "/sweeper", JobID: row.ID}
	var took bool
	if was != "" {
		took, err = q.cfg.Store.TakeOverLease(ctx, *old, sweeper, q.cfg.LeaseTTL)
	} else {
		took, err = q.cfg.Store.TakeLease(ctx, sweeper, q.cfg.LeaseTTL)
	}
	if err != nil {
		return false, fmt.Errorf("error checking the lease of a running sync of mirror %d: %w", mirrorID, err)
	}
	if !took {
		return false, nil // alive
	}
	// The job may have finished between the listing and the take (its
	// worker releases its lease after marking it done): look again, now
	// that no worker can take the lease.
	cur, err := q.client.JobGet(ctx, row.ID)
	if err != nil {
		err = fmt.Errorf("error reading running sync job %d: %w", row.ID, err)
	} else if cur.State != rivertype.JobStateRunning || cur.AttemptedAt == nil || !cur.AttemptedAt.Equal(*row.AttemptedAt) {
		q.releaseSweeper(ctx, log, sweeper)
		return false, nil
	}
	if err == nil {
		err = q.cfg.DB.AbandonJob(ctx, row.ID, *row.AttemptedAt, abandonReason)
	}
	if err == nil {
		err = q.closeDeadRuns(ctx, mirrorID)
	}
	// Released before the fresh job exists, so that its worker finds the
	// lease free; the old worker, should it still run, finds it gone.
	q.releaseSweeper(ctx, log, sweeper)
	if err != nil {
		return false, err
	}
	res, err := q.client.Insert(ctx, SyncArgs{MirrorID: mirrorID, Trigger: trigger}, &river.InsertOpts{MaxAttempts: q.cfg.maxAttempts()})
	if err != nil {
		return false, fmt.Errorf("error enqueueing a sync of mirror %d in place of a dead one: %w", mirrorID, err)
	}
	log.Warn("a sync's worker died (its lease lapsed); syncing the mirror again",
		slog.String("dead_holder", was), slog.Int64("new_job_id", res.Job.ID), slog.Duration("running_for", time.Since(*row.AttemptedAt)))
	return true, nil
}

// releaseSweeper gives up the lease a sweeper took.
func (q *Queue) releaseSweeper(ctx context.Context, log *slog.Logger, l store.Lease) {
	bg, cancel := afterwards(ctx)
	defer cancel()
	if err := q.cfg.Store.ReleaseLease(bg, l); err != nil {
		log.Warn("could not release the lease of a rescued sync", slog.Any(logkey.Error, err))
	}
}

// closeDeadRuns records the runs of a mirror left running by a dead worker
// as interrupted, so that its history does not show a sync running for
// ever. The caller holds the mirror's lock and its lease: no live sync of
// the mirror runs.
func (q *Queue) closeDeadRuns(ctx context.Context, mirrorID int64) error {
	runs, err := q.cfg.Store.ListRuns(ctx, mirrorID, deadRunsScan)
	if err != nil {
		return fmt.Errorf("error reading the runs of mirror %d: %w", mirrorID, err)
	}
	for _, r := range runs {
		if r.Outcome != store.OutcomeRunning {
			continue
		}
		r.FinishedAt = time.Now()
		r.Outcome, r.ErrorClass, r.ErrorMessage = store.OutcomeInterrupted, string(failure.Timeout), deadRunMessage
		if _, err := q.cfg.Store.FinishRun(ctx, r); err != nil {
			return fmt.Errorf("error closing a dead run of mirror %d: %w", mirrorID, err)
		}
	}
	return nil
}

// startSweeper sweeps now and every SweepEvery until stopSweeper.
func (q *Queue) startSweeper() {
	q.sweepMu.Lock()
	defer q.sweepMu.Unlock()
	if q.sweepStop != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	q.sweepStop, q.sweepDone = cancel, make(chan struct{})
	go func(done chan struct{}) {
		defer close(done)
		t := time.NewTicker(q.cfg.SweepEvery)
		defer t.Stop()
		for {
			if err := q.sweep(ctx); err != nil && ctx.Err() == nil {
				q.log.Warn("could not look for syncs whose worker died", slog.Any(logkey.Error, err))
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}(q.sweepDone)
}

func (q *Queue) stopSweeper() {
	q.sweepMu.Lock()
	defer q.sweepMu.Unlock()
	if q.sweepStop != nil {
		q.sweepStop()
		<-q.sweepDone
		q.sweepStop, q.sweepDone = nil, nil
	}
}
