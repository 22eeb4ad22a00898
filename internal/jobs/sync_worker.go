package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/logkey"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// bookkeeping bounds store writes made after a sync, even when the job's
// own context has ended.
const bookkeeping = time.Minute

// interruptedMessage is recorded for a sync cut short by a shutdown.
const interruptedMessage = "interrupted: the App stopped during this sync; it runs again after the restart"

// afterwards is a context for bookkeeping that must happen even when ctx
// has ended (the sync timed out, or Stop cancelled it): it keeps ctx's
// values (River's client) and gets a deadline of its own.
func afterwards(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), bookkeeping)
}

// syncWorker runs SyncArgs jobs.
type syncWorker struct {
	river.WorkerDefaults[SyncArgs]
	q *Queue
}

// Work syncs one mirror once, records the run, and settles the job: again
// when a request arrived meanwhile (SyncSpacing after this sync started, or
// at once if that has passed), retried later after a transient failure,
// finished otherwise.
func (w *syncWorker) Work(ctx context.Context, job *river.Job[SyncArgs]) error {
	q := w.q
	id := job.Args.MirrorID
	log := q.log.With(slog.Int64(logkey.MirrorID, id), slog.Int64(logkey.JobID, job.ID))
	m, err := q.cfg.Store.GetMirror(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		log.Info("mirror no longer exists; nothing to sync")
		return nil
	}
	if err != nil {
		return fmt.Errorf("error reading mirror %d: %w", id, err)
	}
	// A mirror's syncs start a spacing apart, on any replica: a request
	// soon after a sync started waits for the rest of it, and the ones
	// meanwhile join this job.
	if wait := spacingLeft(m.SyncStartedAt, q.cfg.syncSpacing(), time.Now()); wait > 0 {
		log.Debug("waiting out the sync spacing", slog.Duration("wait", wait))
		return river.JobSnooze(wait + storedTimeSlack)
	}
	// Then its turn to start on this replica (Config.StartInterval); a
	// reconcile round spaces its own syncs (ReconcileSpread).
	if q.starts != nil && job.Args.Trigger != store.TriggerReconcile {
		if err := q.starts.Wait(ctx); err != nil {
			return fmt.Errorf("error waiting to start the sync of mirror %d: %w", id, err)
		}
	}
	// Then the lease: with it this worker is the mirror's one sync, on
	// any replica, and a sweeper sees it alive. The requests counted
	// before it (seq, below) are served by this sync all the same.
	lease := q.syncLease(id, job.ID)
	took, err := q.cfg.Store.TakeLease(ctx, lease, q.cfg.LeaseTTL)
	if err != nil {
		return fmt.Errorf("error taking the lease of mirror %d: %w", id, err)
	}
	if !took {
		// Someone still holds it: a worker taken for dead that has not
		// noticed yet, or a sweeper replacing one. Come back when it has
		// renewed or lapsed.
		log.Info("another worker holds this mirror's lease; waiting for it")
		return river.JobSnooze(q.cfg.LeaseRenew)
	}
	ctx, dropLease := q.keepLease(ctx, log, lease)
	defer dropLease()
	log = log.With(slog.Int64(logkey.InstallationID, m.InstallationID), slog.String(logkey.Repo, m.A.FullName()))
	seq := m.RequestSeq
	trigger := q.takeTrigger(id, job.Args.Trigger)
	// Should requests arrive before this job ends, its follow-up starts no
	// sooner than a spacing after now: a storm of pushes to the mirror
	// then costs a job and a sync a spacing, not one after another.
	start := time.Now()
	next := start.Add(q.cfg.syncSpacing())

	var pause string // set when this run pauses the mirror
	moved := func(ctx context.Context) (bool, error) {
		cur, err := q.cfg.Store.GetMirror(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("error reading mirror %d: %w", id, err)
		}
		if cur.RequestSeq != seq {
			return true, nil // a new request counts as a resume: do not pause
		}
		if pause != "" {
			if err := q.cfg.Store.PauseAfterFailures(ctx, id, pause); err != nil {
				return false, fmt.Errorf("error pausing mirror %d: %w", id, err)
			}
			log.Warn("mirror paused", slog.String("reason", pause))
		}
		return false, nil
	}

	if m.Paused || q.suspended(ctx, m) {
		log.Debug("mirror is paused; not syncing")
		return settle(ctx, q, mirrorKey(id), job, next, moved, nil)
	}

	sctx := ctx
	if len(job.AttemptedBy) <= 1 || (job.Args.Seq != 0 && job.Args.Seq == seq) {
		// The push that inserted the job still says what to fetch while no
		// other request has come since: on its first run, and after it
		// waited out the spacing or a retry's backoff (River notes who ran
		// the job each time, snoozes included). A push soon after the last
		// sync started thus keeps its prefetch. Once others joined, its
		// hints may be stale; the sync checks them against the listings
		// anyway (mirror.Options.Hints), so this only saves a wasted fetch.
		sctx = withHints(ctx, job.Args.Hints)
	}
	v, failures, err := w.syncOnce(sctx, log, m, trigger, start)
	// The job's context may have ended with the sync: settle regardless.
	bg, cancel := afterwards(ctx)
	defer cancel()
	switch {
	case errors.Is(err, errMirrorGone):
		// Deleted while it synced (removed from the settings file, the
		// App uninstalled): its runs went with it, nothing to retry.
		log.Info("mirror deleted during its sync; nothing to record")
		return nil
	case err != nil:
		return err
	case v == nil:
		return river.JobSnooze(0) // interrupted by Stop: back to the queue
	case v.outcome != store.OutcomeFailed:
		return settle(bg, q, mirrorKey(id), job, next, moved, nil)
	case failures >= q.cfg.MaxFailures:
		pause = fmt.Sprintf("paused after %d consecutive failures: %s", failures, v.message)
		return settle(bg, q, mirrorKey(id), job, next, moved, v.err)
	case v.class.Transient():
		return v.err // River retries with backoff
	default:
		return settle(bg, q, mirrorKey(id), job, next, moved, v.err)
	}
}

// spacingSlack is a wait for the spacing too short to snooze for: the
// store records a sync's start (SyncStartedAt) a few milliseconds after
// the worker took it, which is what a follow-up is snoozed from.
const spacingSlack = 50 * time.Millisecond

// spacingLeft is how long a sync that would start at now waits so as to
// start no sooner than spacing after the mirror's previous sync started:
// 0 when that has passed (give or take spacingSlack) or the mirror never
// synced, and never more than spacing, whatever another replica's clock
// wrote.
func spacingLeft(prevStart time.Time, spacing time.Duration, now time.Time) time.Duration {
	if prevStart.IsZero() || spacing <= 0 {
		return 0
	}
	left := prevStart.Add(spacing).Sub(now)
	if left < spacingSlack {
		return 0
	}
	return min(left, spacing)
}

// syncOnce runs the Runner and records the run, started at start. It
// returns a nil verdict when Stop interrupted the sync, and an error only
// when the store failed.
func (w *syncWorker) syncOnce(ctx context.Context, log *slog.Logger, m *store.Mirror, trigger store.Trigger, start time.Time) (*verdict, int, error) {
	q := w.q
	bg, cancel := afterwards(ctx)
	defer cancel()
	// A reconcile of a healthy mirror records a run only when it found
	// something to do: a no-op drift check every few minutes would bury
	// the history people read.
	quiet := trigger == store.TriggerReconcile && m.ConsecutiveFailures == 0 &&
		(m.Status == store.StatusInSync || m.Status == store.StatusDiverged)
	run := &store.SyncRun{MirrorID: m.ID, Trigger: trigger, StartedAt: start, Outcome: store.OutcomeRunning}
	if !quiet {
		if err := q.cfg.Store.StartRun(bg, run); err != nil {
			return nil, 0, q.goneOr(bg, m.ID, fmt.Errorf("error recording the start of a sync of mirror %d: %w", m.ID, err))
		}
	}
	if err := q.cfg.Store.SetStatus(bg, m.ID, store.StatusSyncing); err != nil {
		log.Warn("could not mark mirror as syncing", slog.Any("error", err))
	}

	sctx, cancelSync := context.WithTimeout(ctx, q.cfg.SyncTimeout)
	res, serr := q.cfg.Runner.Sync(sctx, m)
	cancelSync()
	rel, relErr := releasesOf(q.cfg.Runner, res)
	elapsed := time.Since(start)
	bg, cancel = afterwards(ctx)
	defer cancel()

	var v verdict
	lost := serr != nil && leaseLost(ctx)
	interrupted := serr != nil && ctx.Err() != nil && q.stopping.Load() || lost
	switch {
	case lost:
		v = verdict{outcome: store.OutcomeInterrupted, status: store.StatusFailing, class: failure.Timeout, message: leaseLostMessage}
	case interrupted:
		v = verdict{outcome: store.OutcomeInterrupted, status: store.StatusFailing, class: failure.Timeout, message: interruptedMessage}
	default:
		v = judgeReleases(judge(res, serr), rel, relErr)
		q.observe(v.outcome, elapsed)
	}
	if quiet && (interrupted || v.status == m.Status && (res == nil || len(res.Changed()) == 0) && rel.Changed() == 0) {
		if err := q.cfg.Store.SetStatus(bg, m.ID, m.Status); err != nil {
			return nil, 0, fmt.Errorf("error restoring the status of mirror %d: %w", m.ID, err)
		}
		log.Debug("reconcile found nothing to do")
		if interrupted {
			return nil, 0, nil
		}
		return &v, 0, nil
	}
	if quiet {
		if err := q.cfg.Store.StartRun(bg, run); err != nil {
			return nil, 0, q.goneOr(bg, m.ID, fmt.Errorf("error recording a sync of mirror %d: %w", m.ID, err))
		}
	}
	run.FinishedAt = time.Now()
	run.Outcome, run.ErrorClass, run.ErrorMessage = v.outcome, string(v.class), v.message
	if res != nil {
		run.Refs, run.Bytes = res.Refs, res.Bytes
	}
	run.Releases = rel
	failures, err := q.cfg.Store.FinishRun(bg, run)
	if err != nil {
		return nil, 0, q.goneOr(bg, m.ID, fmt.Errorf("error recording the outcome of a sync of mirror %d: %w", m.ID, err))
	}
	logRun(log, run, res, elapsed, failures)
	if interrupted {
		return nil, 0, nil
	}
	return &v, failures, nil
}

// logRun logs a finished sync at a level that fits its outcome.
func logRun(log *slog.Logger, run *store.SyncRun, res *mirror.Result, elapsed time.Duration, failures int) {
	attrs := []any{slog.String(logkey.Trigger, string(run.Trigger)), slog.String(logkey.Outcome, string(run.Outcome)),
		slog.Duration("duration", elapsed), slog.Int64("bytes", run.Bytes)}
	if res != nil {
		attrs = append(attrs, slog.Int("changed", len(res.Changed())))
	}
	switch run.Outcome {
	case store.OutcomeFailed:
		attrs = append(attrs, slog.String(logkey.ErrorClass, run.ErrorClass), slog.String(logkey.Error, run.ErrorMessage), slog.Int("failures", failures))
		log.Warn("sync failed", attrs...)
	case store.OutcomeDiverged:
		log.Info("sync left refs diverged", append(attrs, slog.String("detail", run.ErrorMessage))...)
	case store.OutcomeInterrupted:
		log.Info("sync interrupted by the shutdown; it runs again after the restart", attrs...)
	default:
		log.Info("sync finished", attrs...)
	}
}

// errMirrorGone: the mirror was deleted while its sync ran.
var errMirrorGone = errors.New("mirror deleted during its sync")

// goneOr returns errMirrorGone when mirror id no longer exists (a store
// write failed because the mirror, with its runs, was deleted meanwhile),
// else err.
func (q *Queue) goneOr(ctx context.Context, id int64, err error) error {
	if _, gerr := q.cfg.Store.GetMirror(ctx, id); errors.Is(gerr, store.ErrNotFound) {
		return errMirrorGone
	}
	return err
}

// observe counts a finished sync.
func (q *Queue) observe(outcome store.Outcome, elapsed time.Duration) {
	if q.cfg.Metrics == nil {
		return
	}
	q.cfg.Metrics.Syncs.WithLabelValues(string(outcome)).Inc()
	q.cfg.Metrics.SyncDuration.Observe(elapsed.Seconds())
}

// suspended reports whether the mirror's installation is suspended.
func (q *Queue) suspended(ctx context.Context, m *store.Mirror) bool {
	in, err := q.cfg.Store.GetInstallation(ctx, m.InstallationID)
	return err == nil && in.Suspended
}
