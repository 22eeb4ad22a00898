package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"golang.org/x/time/rate"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// Queue is the App's job queue. Create it with New, then Start it; the
// insert methods work before Start too.
type Queue struct {
	cfg    Config
	log    *slog.Logger
	client store.JobClient
	starts *rate.Limiter // nil: syncs start as soon as a worker takes them

	// stopping is set when Stop cancels running syncs, so that they hand
	// their jobs back rather than count a failure.
	stopping atomic.Bool

	mu       sync.Mutex
	triggers map[int64]store.Trigger // latest request's trigger per mirror, until a job takes it

	depthMu   sync.Mutex
	depthStop context.CancelFunc
	depthDone chan struct{}

	sweepMu   sync.Mutex
	sweepStop context.CancelFunc
	sweepDone chan struct{}
	leaseless map[int64]sighting // the sweeper's: running jobs seen without a lease
}

// New applies River's migrations to cfg.DB and returns a Queue that is not
// yet working.
func New(ctx context.Context, cfg Config) (*Queue, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := cfg.DB.MigrateJobs(ctx, cfg.Logger); err != nil {
		return nil, err
	}
	q := &Queue{cfg: cfg, log: cfg.Logger, triggers: map[int64]store.Trigger{}}
	if cfg.StartInterval > 0 {
		q.starts = rate.NewLimiter(rate.Every(cfg.StartInterval), 1)
	}

	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &syncWorker{q: q}); err != nil {
		return nil, fmt.Errorf("error registering sync worker: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &configWorker{q: q}); err != nil {
		return nil, fmt.Errorf("error registering config worker: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &reconcileWorker{q: q}); err != nil {
		return nil, fmt.Errorf("error registering reconcile worker: %w", err)
	}
	var periodic []*river.PeriodicJob
	if cfg.ReconcileInterval > 0 {
		periodic = append(periodic, river.NewPeriodicJob(
			river.PeriodicInterval(cfg.ReconcileInterval),
			func() (river.JobArgs, *river.InsertOpts) { return ReconcileArgs{}, nil },
			&river.PeriodicJobOpts{ID: "reconcile", RunOnStart: true},
		))
	}
	q.client, err = cfg.DB.NewJobClient(&river.Config{
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}},
		Workers:              workers,
		PeriodicJobs:         periodic,
		FetchPollInterval:    cfg.PollInterval,
		FetchCooldown:        min(cfg.PollInterval, 100*time.Millisecond),
		JobTimeout:           cfg.jobTimeout(),
		RescueStuckJobsAfter: cfg.RescueAfter,
		RetryPolicy:          cfg.RetryPolicy,
		MaxAttempts:          cfg.maxAttempts(),
		Logger:               cfg.Logger.With(slog.String("component", "river")),
	})
	if err != nil {
		return nil, fmt.Errorf("error creating job queue client: %w", err)
	}
	return q, nil
}

// Start begins working jobs and refreshing the queue depth gauge. ctx
// should live as long as the App: cancelling it starts a soft stop; call
// Stop to shut down.
func (q *Queue) Start(ctx context.Context) error {
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("error starting job queue: %w", err)
	}
	q.startDepthGauge()
	q.startSweeper()
	return nil
}

// Stop stops fetching jobs and waits for running ones. When ctx ends first,
// running syncs are cancelled: each hands its job back to the queue (it runs
// again, first thing, after the next start) and records the run as
// interrupted. Stop returns ctx's error in that case.
func (q *Queue) Stop(ctx context.Context) error {
	q.stopDepthGauge()
	q.stopSweeper()
	err := q.client.Stop(ctx)
	if err == nil || ctx.Err() == nil {
		if err != nil {
			return fmt.Errorf("error stopping job queue: %w", err)
		}
		return nil
	}
	q.log.Warn("running syncs did not finish in time; cancelling them, they run again after restart")
	q.stopping.Store(true)
	hard, cancel := context.WithTimeout(context.WithoutCancel(ctx), hardStopWait)
	defer cancel()
	if herr := q.client.StopAndCancel(hard); herr != nil {
		return fmt.Errorf("error cancelling running jobs: %w", errors.Join(err, herr))
	}
	return fmt.Errorf("job queue stopped by cancelling running syncs: %w", err)
}

// Depth counts jobs waiting or running (available, running, retryable,
// scheduled) and sets the queue depth gauge.
func (q *Queue) Depth(ctx context.Context) (int, error) {
	n, err := q.cfg.DB.JobDepth(ctx)
	if err != nil {
		return 0, fmt.Errorf("error counting queued jobs: %w", err)
	}
	if q.cfg.Metrics != nil {
		q.cfg.Metrics.QueueDepth.Set(float64(n))
	}
	return n, nil
}

func (q *Queue) startDepthGauge() {
	if q.cfg.Metrics == nil {
		return
	}
	q.depthMu.Lock()
	defer q.depthMu.Unlock()
	if q.depthStop != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	q.depthStop, q.depthDone = cancel, make(chan struct{})
	go func(done chan struct{}) {
		defer close(done)
		t := time.NewTicker(depthEvery)
		defer t.Stop()
		for {
			if _, err := q.Depth(ctx); err != nil && ctx.Err() == nil {
				q.log.Warn("could not measure queue depth", slog.Any("error", err))
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}(q.depthDone)
}

func (q *Queue) stopDepthGauge() {
	q.depthMu.Lock()
	defer q.depthMu.Unlock()
	if q.depthStop != nil {
		q.depthStop()
		<-q.depthDone
		q.depthStop, q.depthDone = nil, nil
	}
}
