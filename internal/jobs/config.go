package jobs

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/gitee-mirror/gitee-mirror/internal/metrics"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// Defaults for Config.
const (
	DefaultMaxFailures       = 5
	DefaultSyncTimeout       = 30 * time.Minute
	DefaultReconcileInterval = 10 * time.Minute
	DefaultPollInterval      = 100 * time.Millisecond
	DefaultWorkers           = 4
	DefaultLeaseTTL          = 30 * time.Second
	DefaultLeaseRenew        = 10 * time.Second
	DefaultSweepEvery        = 5 * time.Second
	DefaultSyncSpacing       = time.Second
	DefaultStartInterval     = 100 * time.Millisecond

	// jobSlack is what a job may take beyond its sync: recording the run,
	// check runs, the follow-up check.
	jobSlack = 2 * time.Minute
	// rescueSlack is how long after SyncTimeout a job still marked running
	// is taken for dead (its process was killed) and run again.
	rescueSlack = 5 * time.Minute
	// depthEvery is how often the queue depth gauge is refreshed.
	depthEvery = 15 * time.Second
	// hardStopWait bounds how long Stop waits for cancelled syncs to hand
	// their jobs back after its context ended.
	hardStopWait = 30 * time.Second
)

// Config configures a Queue.
type Config struct {
	// DB is the database River works in, as the store's backend provides
	// it (sqlite.Store.Jobs, postgres.Store.Jobs).
	DB store.JobDB
	// Store keeps mirrors, runs and sync requests.
	Store store.Store
	// Runner does the work of a job.
	Runner Runner
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Metrics, optional: syncs by outcome, sync duration, queue depth.
	Metrics *metrics.Metrics

	// MaxFailures is how many consecutive failed syncs pause a mirror
	// (with its last error), until a person resumes it or a push arrives.
	// Default 5.
	MaxFailures int
	// SyncTimeout bounds one sync; default 30 minutes.
	SyncTimeout time.Duration
	// ReconcileInterval is how often every active mirror is checked for
	// drift; 0 means the default (10 minutes), negative disables it.
	ReconcileInterval time.Duration
	// ReconcileSpread is how long a reconcile round spreads its mirrors'
	// syncs over, evenly; 0 means ReconcileInterval (each mirror is checked
	// once an interval, at its own point of it), negative means all at
	// once.
	ReconcileSpread time.Duration
	// PollInterval is how often River looks for new jobs (SQLite has no
	// LISTEN/NOTIFY); default 100 ms.
	PollInterval time.Duration
	// RescueAfter is how long a job may stay running before River takes
	// its process for dead and runs it again; default SyncTimeout + 5 min.
	RescueAfter time.Duration
	// Workers is how many jobs run at once; default 4.
	Workers int
	// RetryPolicy spaces retries of transiently failed syncs; default
	// exponential from 5 s, capped at 10 min.
	RetryPolicy river.ClientRetryPolicy

	// LeaseTTL is how long a running sync's lease on its mirror outlives
	// its last renewal; LeaseRenew how often the sync renews it (at most
	// half the TTL). A sync whose process died is run again about
	// LeaseTTL + SweepEvery after its last renewal. Defaults 30 s, 10 s.
	LeaseTTL   time.Duration
	LeaseRenew time.Duration
	// SweepEvery is how often the queue looks for running syncs whose
	// lease lapsed; default 5 s. It also looks once at Start.
	SweepEvery time.Duration
	// SyncSpacing is the least time from the start of a sync of a mirror
	// to the start of its next one: its follow-up, the sync that serves
	// the requests that arrived while it ran, or a sync requested after it
	// ended. Under a storm of pushes to one repository (a bot, hundreds of
	// tags pushed at once) the mirror syncs about once a spacing instead
	// of back to back. A request to a mirror whose last sync started a
	// spacing ago or more (Mirror.SyncStartedAt, in the store: it holds
	// across replicas) is served at once. 0 means the default (1 s),
	// negative none.
	SyncSpacing time.Duration
	// StartInterval is the least time between two syncs starting in this
	// process (whatever their mirrors). Syncs that become due together —
	// many repositories pushed in the same instant, a queue catching up
	// after a restart — start one after another instead of all Workers at
	// once: their start (the job's and the lease's statements, the tokens,
	// both listings) is the costliest part of a sync that finds nothing
	// to do, and a burst of them took the cores from the webhook intake.
	// A sync due alone starts at once, and a reconcile round's syncs are
	// not held (the round spreads them itself, ReconcileSpread). 0 means
	// the default (100 ms: 10 starts a second a replica), negative none.
	StartInterval time.Duration
	// Holder names this process in the leases it takes; default a random
	// id with the host name and process id. Unique per process start.
	Holder string
}

// withDefaults fills zero fields and checks the rest.
func (c Config) withDefaults() (Config, error) {
	switch {
	case c.DB == nil:
		return c, errors.New("jobs: Config.DB is required")
	case c.Store == nil:
		return c, errors.New("jobs: Config.Store is required")
	case c.Runner == nil:
		return c, errors.New("jobs: Config.Runner is required")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MaxFailures <= 0 {
		c.MaxFailures = DefaultMaxFailures
	}
	if c.SyncTimeout <= 0 {
		c.SyncTimeout = DefaultSyncTimeout
	}
	if c.ReconcileInterval == 0 {
		c.ReconcileInterval = DefaultReconcileInterval
	}
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.RescueAfter <= 0 {
		c.RescueAfter = c.SyncTimeout + rescueSlack
	}
	if c.RescueAfter < c.jobTimeout() {
		return c, fmt.Errorf("jobs: RescueAfter (%s) must be at least SyncTimeout + %s (%s), or running syncs would be started twice",
			c.RescueAfter, jobSlack, c.jobTimeout())
	}
	if c.Workers <= 0 {
		c.Workers = DefaultWorkers
	}
	if c.RetryPolicy == nil {
		c.RetryPolicy = &BackoffPolicy{}
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = DefaultLeaseTTL
	}
	if c.LeaseRenew <= 0 {
		c.LeaseRenew = min(DefaultLeaseRenew, c.LeaseTTL/3)
	}
	if c.LeaseRenew > c.LeaseTTL/2 {
		return c, fmt.Errorf("jobs: LeaseRenew (%s) must be at most half of LeaseTTL (%s), or one late renewal loses the lease", c.LeaseRenew, c.LeaseTTL)
	}
	if c.SweepEvery <= 0 {
		c.SweepEvery = DefaultSweepEvery
	}
	if c.SyncSpacing == 0 {
		c.SyncSpacing = DefaultSyncSpacing
	}
	if c.StartInterval == 0 {
		c.StartInterval = DefaultStartInterval
	}
	if c.Holder == "" {
		c.Holder = newHolder()
	}
	return c, nil
}

// jobTimeout bounds one job: a sync plus its bookkeeping.
func (c Config) jobTimeout() time.Duration { return c.SyncTimeout + jobSlack }

// reconcileSpread is the spread of a reconcile round; 0 for none.
func (c Config) reconcileSpread() time.Duration {
	switch {
	case c.ReconcileSpread < 0:
		return 0
	case c.ReconcileSpread == 0:
		return max(c.ReconcileInterval, 0)
	}
	return c.ReconcileSpread
}

// syncSpacing is the spacing of a mirror's follow-up syncs; 0 for none.
func (c Config) syncSpacing() time.Duration { return max(c.SyncSpacing, 0) }

// maxAttempts keeps River from discarding a failing sync job before the
// mirror is paused.
func (c Config) maxAttempts() int { return max(25, c.MaxFailures+1) }
