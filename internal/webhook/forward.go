package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/logkey"
	"github.com/gitee-mirror/gitee-mirror/internal/metrics"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// Forwarder defaults.
const (
	// DefaultMaxAttempts is how often a delivery's work is tried before it
	// is given up (kept in the inbox, and logged as an error).
	DefaultMaxAttempts = 10
	// DefaultRetryBase is the wait after a first failure; it doubles with
	// each further one, up to maxRetryWait.
	DefaultRetryBase = time.Second
	// DefaultPollInterval is how often the inbox is read when nothing
	// wakes the forwarder (deliveries left by a previous run, retries).
	DefaultPollInterval = 5 * time.Second
	// DefaultBatch is how many pending deliveries one read takes. Large,
	// so that at a high rate a batch holds many deliveries per repository
	// and coalesces them into one request each: at 1,000 deliveries a
	// second over 20 repositories a batch of 64 did a request for every
	// third delivery, and the forwarder fell a minute behind (issue 13).
	DefaultBatch = 1000
	// DefaultGaugeEvery is how often Run counts the inbox for the gauges
	// (at most; after a batch). Counting reads every pending row: when
	// the forwarder is behind it cost Postgres as much as marking a batch
	// handled, once per batch at one second (issue 13); a gauge scraped
	// every 15 s or more needs no fresher count.
	DefaultGaugeEvery = 10 * time.Second
	// DefaultGather is the least time between the starts of two batches
	// that found work, unless the first was full: under a stream of
	// deliveries a batch then holds what came in that time, and pushes to
	// one repository coalesce into one request. Without it each wake made
	// a batch of a few deliveries, and the requests (a mirror listing, its
	// share of the locks, counters and inserts) were 85 % of the
	// deliveries (issue 13). A delivery after a quiet spell is not held.
	DefaultGather = 100 * time.Millisecond

	maxRetryWait = time.Minute
)

// ForwarderOptions configure a Forwarder.
type ForwarderOptions struct {
	Inbox store.Inbox
	// Handlers are those the intake parsed the deliveries with.
	Handlers []EventHandler
	// Syncs, when set, requests the syncs of a batch's tasks that only
	// request syncs (Task.Syncs) together; nil: each task's Run does.
	Syncs   SyncRequester
	Metrics *metrics.Metrics // nil: none
	Logger  *slog.Logger     // nil: discard
	// MaxAttempts, RetryBase, PollInterval, Batch, GaugeEvery, Gather: 0
	// means the defaults above; a negative Gather, none.
	MaxAttempts  int
	RetryBase    time.Duration
	PollInterval time.Duration
	Batch        int
	GaugeEvery   time.Duration
	Gather       time.Duration
}

// Forwarder does the work of accepted deliveries: it reads them from the
// inbox in arrival order, parses each again and runs its Task (store
// updates and queue requests). A delivery whose work fails is retried with
// backoff, ahead of later ones so that order holds (a failure here is the
// store or queue being unavailable, which later deliveries would meet too),
// and is given up after MaxAttempts, staying in the inbox. A delivery this
// version cannot parse any more (written by another version) is dropped
// with an error in the log.
//
// Deliveries are read in batches. When deliveries come faster than their
// work is done, a batch holds several with the same Task.Key (pushes to one
// repository): that work is done once, at the last one's turn, so the
// forwarder catches up instead of falling further behind.
type Forwarder struct {
	opts     ForwarderOptions
	log      *slog.Logger
	handlers map[string]EventHandler
	wake     chan struct{}
	mu       sync.Mutex // one batch at a time: Run and Drain may overlap
	worked   time.Time  // when the last batch that found work started; under mu
}

// NewForwarder returns a forwarder; Run starts it.
func NewForwarder(opts ForwarderOptions) *Forwarder {
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.RetryBase <= 0 {
		opts.RetryBase = DefaultRetryBase
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.Batch <= 0 {
		opts.Batch = DefaultBatch
	}
	if opts.GaugeEvery <= 0 {
		opts.GaugeEvery = DefaultGaugeEvery
	}
	if opts.Gather == 0 {
		opts.Gather = DefaultGather
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Forwarder{opts: opts, log: log, handlers: byEvent(opts.Handlers), wake: make(chan struct{}, 1)}
}

// Wake tells the forwarder a delivery was accepted. It never blocks.
func (f *Forwarder) Wake() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// Run forwards deliveries until ctx ends.
func (f *Forwarder) Run(ctx context.Context) {
	f.updateGauge(ctx)
	counted := time.Now()
	for {
		wait := f.opts.PollInterval
		more, err := f.batch(ctx)
		if time.Since(counted) >= f.opts.GaugeEvery {
			f.updateGauge(ctx)
			counted = time.Now()
		}
		var rf *retryError
		switch {
		case ctx.Err() != nil:
			return
		case errors.As(err, &rf):
			wait = rf.wait
		case err != nil:
			f.log.ErrorContext(ctx, "error reading the webhook inbox", logkey.Error, err)
			wait = f.opts.RetryBase
		case more:
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-f.wake:
		case <-t.C:
		}
		t.Stop()
		if !f.gather(ctx) {
			return
		}
	}
}

// gather waits until Gather has passed since the last batch that found
// work started; false when ctx ended meanwhile.
func (f *Forwarder) gather(ctx context.Context) bool {
	f.mu.Lock()
	wait := f.opts.Gather - time.Since(f.worked)
	f.mu.Unlock()
	if wait <= 0 {
		return true
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Drain forwards until nothing is pending, for shutdown and tests. It
// returns the first failure, which leaves the delivery pending.
func (f *Forwarder) Drain(ctx context.Context) error {
	defer f.updateGauge(context.WithoutCancel(ctx))
	for {
		more, err := f.batch(ctx)
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
}

// retryError: a delivery's work failed; try again after wait.
type retryError struct {
	wait time.Duration
	err  error
}

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }

// batch forwards up to opts.Batch pending deliveries and reports whether
// more may be pending.
func (f *Forwarder) batch(ctx context.Context) (more bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if l, ok := f.opts.Inbox.(store.ForwardLocker); ok {
		// Released after the deferred Handled below (defers run last
		// first): another replica then sees this batch as done.
		unlock, err := l.LockForward(ctx)
		if err != nil {
			return false, err
		}
		defer unlock()
	}
	start := time.Now()
	ds, err := f.opts.Inbox.Pending(ctx, f.opts.Batch, f.opts.MaxAttempts)
	if err != nil {
		return false, err
	}
	if len(ds) == 0 {
		return false, nil
	}
	f.worked = start
	var done []int64
	defer func() {
		// A fresh context: the work is done even if ctx ran out meanwhile.
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), taskTimeout)
		defer cancel()
		if herr := f.opts.Inbox.Handled(hctx, done...); herr != nil {
			// The work is redone next time: requests coalesce, configs
			// are re-read, store updates are idempotent.
			err = errors.Join(err, herr)
		}
	}()
	tasks := make([]*Task, len(ds))
	last := map[string]int{} // Task.Key → index of its last delivery in the batch
	for i, d := range ds {
		if tasks[i] = f.parse(ctx, d); tasks[i] != nil && tasks[i].Key != "" {
			last[tasks[i].Key] = i
		}
	}
	var held syncBatch // deliveries whose syncs are requested together
	flush := func() error {
		if len(held.deliveries) == 0 {
			return nil
		}
		if err := f.requestSyncs(ctx, &held); err != nil {
			return f.failed(ctx, held.deliveries[0], err)
		}
		for _, d := range held.deliveries {
			done = append(done, d.Seq)
		}
		held = syncBatch{}
		return nil
	}
	for i, d := range ds {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		switch task := tasks[i]; {
		case task == nil:
		case task.Key != "" && last[task.Key] != i:
			// The same work comes later in the batch: done once, then.
			f.count(d, "coalesced")
		case task.Syncs != nil && f.opts.Syncs != nil:
			if werr := held.add(ctx, d, task); werr != nil {
				if ferr := flush(); ferr != nil {
					return false, ferr
				}
				return false, f.failed(ctx, d, werr)
			}
			if len(held.reqs) >= maxHeldSyncs {
				if err := flush(); err != nil {
					return false, err
				}
			}
			continue
		default:
			if err := flush(); err != nil {
				return false, err
			}
			if werr := f.run(ctx, d, task); werr != nil {
				return false, f.failed(ctx, d, werr)
			}
		}
		done = append(done, d.Seq)
	}
	if err := flush(); err != nil {
		return false, err
	}
	return len(ds) == f.opts.Batch, nil
}

// maxHeldSyncs bounds the sync requests made together: each holds a
// mirror's lock until they are all enqueued, and on Postgres that is an
// advisory lock in the server's shared lock table (room for
// max_locks_per_transaction, 64 by default, times max_connections in all).
const maxHeldSyncs = 200

// syncBatch is deliveries whose syncs the Forwarder requests together, in
// the order of the deliveries: tasks with Syncs, one after another.
type syncBatch struct {
	deliveries []*store.Delivery
	tasks      []*Task
	reqs       []store.SyncRequest
	ends       []int // reqs[ends[i-1]:ends[i]] are deliveries[i]'s
}

// add reads the syncs a delivery's task asks for.
func (b *syncBatch) add(ctx context.Context, d *store.Delivery, task *Task) error {
	tctx, cancel := context.WithTimeout(ctx, taskTimeout)
	defer cancel()
	reqs, err := task.Syncs(tctx)
	if err != nil {
		return err
	}
	b.deliveries = append(b.deliveries, d)
	b.tasks = append(b.tasks, task)
	b.reqs = append(b.reqs, reqs...)
	b.ends = append(b.ends, len(b.reqs))
	return nil
}

// requestSyncs requests the syncs of b's deliveries and logs and counts
// each delivery as a Run would have.
func (f *Forwarder) requestSyncs(ctx context.Context, b *syncBatch) error {
	requested := map[int64]bool{}
	if len(b.reqs) > 0 {
		tctx, cancel := context.WithTimeout(ctx, taskTimeout)
		defer cancel()
		ids, err := f.opts.Syncs.RequestSyncs(tctx, b.reqs)
		if err != nil {
			return fmt.Errorf("error requesting the syncs of %d deliveries: %w", len(b.deliveries), err)
		}
		for _, id := range ids {
			requested[id] = true
		}
	}
	start := 0
	for i, d := range b.deliveries {
		log := f.taskLog(d, b.tasks[i])
		for _, r := range b.reqs[start:b.ends[i]] {
			if requested[r.MirrorID] {
				log.InfoContext(ctx, "sync requested", logkey.MirrorID, r.MirrorID)
			}
		}
		start = b.ends[i]
		f.handled(ctx, d, log)
	}
	return nil
}

// parse returns the work of one delivery, or nil when there is none (an
// ignored action, or a delivery this version cannot handle, logged).
func (f *Forwarder) parse(ctx context.Context, d *store.Delivery) *Task {
	log := f.log.With(logkey.DeliveryID, d.ID, logkey.Event, d.Event)
	h, ok := f.handlers[d.Event]
	if !ok {
		f.count(d, "dropped")
		log.ErrorContext(ctx, "accepted webhook delivery dropped: no handler for its event in this version")
		return nil
	}
	task, err := h.Parse(d.Event, d.Payload)
	if err != nil {
		f.count(d, "dropped")
		log.ErrorContext(ctx, "accepted webhook delivery dropped: this version cannot parse it", logkey.Error, err.Error())
		return nil
	}
	if task == nil {
		f.count(d, "handled")
	}
	return task
}

// run does the work of one delivery.
func (f *Forwarder) run(ctx context.Context, d *store.Delivery, task *Task) error {
	log := f.taskLog(d, task)
	tctx, cancel := context.WithTimeout(ctx, taskTimeout)
	defer cancel()
	if err := task.Run(tctx, log); err != nil {
		return err
	}
	f.handled(ctx, d, log)
	return nil
}

// handled counts and logs a delivery whose work is done.
func (f *Forwarder) handled(ctx context.Context, d *store.Delivery, log *slog.Logger) {
	f.count(d, "handled")
	log.DebugContext(ctx, "webhook delivery handled", "waited", time.Since(d.ReceivedAt).String())
}

// taskLog is the log of a delivery's work.
func (f *Forwarder) taskLog(d *store.Delivery, task *Task) *slog.Logger {
	return f.log.With(logkey.DeliveryID, d.ID, logkey.Event, d.Event,
		logkey.Action, task.Action, logkey.InstallationID, task.InstallationID, logkey.Repo, task.Repo)
}

// failed records a failed attempt and returns when to try again.
func (f *Forwarder) failed(ctx context.Context, d *store.Delivery, werr error) error {
	log := f.log.With(logkey.DeliveryID, d.ID, logkey.Event, d.Event)
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), taskTimeout)
	defer cancel()
	n, err := f.opts.Inbox.Failed(fctx, d.Seq, werr.Error())
	if err != nil {
		return fmt.Errorf("error recording a failed attempt (%w) at delivery %s: %w", werr, d.ID, err)
	}
	if n >= f.opts.MaxAttempts {
		f.count(d, "given-up")
		log.ErrorContext(ctx, "webhook delivery given up: its work failed every time; it stays in the inbox, "+
			"and the periodic reconcile will still catch the mirrors up", "attempts", n, "error", werr)
		return &retryError{wait: 0, err: werr}
	}
	f.count(d, "failed")
	wait := min(f.opts.RetryBase<<(n-1), maxRetryWait)
	log.WarnContext(ctx, "webhook delivery's work failed; retrying", "attempts", n, "retry_in", wait.String(), logkey.Error, werr)
	return &retryError{wait: wait, err: werr}
}

func (f *Forwarder) count(d *store.Delivery, result string) {
	if f.opts.Metrics != nil {
		f.opts.Metrics.InboxForwarded.WithLabelValues(d.Source, result).Inc()
	}
}

// updateGauge sets the pending gauge from the inbox.
func (f *Forwarder) updateGauge(ctx context.Context) {
	if f.opts.Metrics == nil {
		return
	}
	pending, givenUp, err := f.opts.Inbox.Counts(ctx, f.opts.MaxAttempts)
	if err != nil {
		f.log.WarnContext(ctx, "error counting the webhook inbox", logkey.Error, err)
		return
	}
	f.opts.Metrics.InboxPending.Set(float64(pending))
	f.opts.Metrics.InboxGivenUp.Set(float64(givenUp))
}
