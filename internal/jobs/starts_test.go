package jobs

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// TestSyncStartsAreSpacedOnAReplica requests the syncs of several mirrors
// at once, more than one River fetch takes: with Config.StartInterval the
// replica starts them one after another, that long apart, instead of every
// worker at once (a burst of sync starts took the cores from the webhook
// intake, issue 13). Without the start limiter they all start within a few
// tens of milliseconds of the requests and the test fails.
func TestSyncStartsAreSpacedOnAReplica(t *testing.T) {
	t.Parallel()
	const interval = 300 * time.Millisecond
	tests := map[string]struct {
		mirrors, workers int
	}{
		"as many as the workers": {mirrors: 4, workers: 4},
		"more than the workers":  {mirrors: 5, workers: 3},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, func(c *Config) { c.StartInterval, c.Workers = interval, tt.workers })
			var mu sync.Mutex
			var starts []time.Time
			b.runner.onSync(func(context.Context, *store.Mirror) (*mirror.Result, error) {
				mu.Lock()
				starts = append(starts, time.Now())
				mu.Unlock()
				return okResult(), nil
			})
			var ids []int64
			for i := range tt.mirrors {
				ids = append(ids, b.mirror(t, "widget-"+string(rune('a'+i))).ID)
			}
			begin := time.Now()
			for _, id := range ids {
				b.request(t, id, store.TriggerPush, false)
			}
			for range ids {
				b.runner.waitStarted(t)
			}
			for range ids {
				b.waitFinal(t)
			}
			mu.Lock()
			defer mu.Unlock()
			slices.SortFunc(starts, func(a, b time.Time) int { return a.Compare(b) })
			// The limiter hands out turns an interval apart from the first,
			// which comes after begin; each sync reaches the Runner some time
			// after its turn (the lease, the mirror's status: longer under
			// -race on a busy machine), so the k-th sync to reach it does so
			// at least k intervals after begin. The slack covers a timer
			// firing early by a clock tick.
			for k, at := range starts {
				if after, least := at.Sub(begin), time.Duration(k)*interval-10*time.Millisecond; after < least {
					t.Errorf("sync %d of %d started %s after the requests, want at least %d start intervals (%s)",
						k+1, len(starts), after, k, time.Duration(k)*interval)
				}
			}
			for _, id := range ids {
				if got := b.runner.callsOf(id); got != 1 {
					t.Errorf("mirror %d synced %d times, want 1", id, got)
				}
			}
		})
	}
}

// TestReconcileSyncsAreNotHeld: with a start interval of 10 minutes (under
// the job's timeout, which a longer wait would fail at once), one push
// sync takes the replica's start and the next push's sync waits, while a
// reconcile round's sync (the round spaces its syncs itself) runs at once.
// With the reconcile held too, the test fails waiting for it.
func TestReconcileSyncsAreNotHeld(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.StartInterval = 10 * time.Minute })
	first, held, checked := b.mirror(t, "first"), b.mirror(t, "held"), b.mirror(t, "checked")
	b.request(t, first.ID, store.TriggerPush, false)
	if got := b.runner.waitStarted(t); got != first.ID {
		t.Fatalf("first sync of mirror %d, want %d", got, first.ID)
	}
	b.waitFinal(t)
	b.request(t, held.ID, store.TriggerPush, false)
	b.request(t, checked.ID, store.TriggerReconcile, false)
	if got := b.runner.waitStarted(t); got != checked.ID {
		t.Fatalf("next sync of mirror %d, want the reconcile's, %d", got, checked.ID)
	}
	b.waitFinal(t)
	if got := b.runner.callsOf(held.ID); got != 0 {
		t.Errorf("the second push's sync ran %d times within the start interval of 10 minutes, want 0", got)
	}
	// Hand the waiting sync back now rather than let the cleanup's Stop
	// wait for it.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = b.q.Stop(ctx)
}

// TestStopWhileWaitingToStart: a sync waiting for its turn to start when
// Stop gives up on the running jobs is handed back to the queue, not
// failed (no error recorded on its job: River returns a job whose context
// Stop cancelled to the queue as it was), and runs after the restart.
func TestStopWhileWaitingToStart(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.StartInterval = 10 * time.Minute })
	first, held := b.mirror(t, "first"), b.mirror(t, "held")
	b.request(t, first.ID, store.TriggerPush, false)
	b.runner.waitStarted(t)
	b.waitFinal(t)
	b.request(t, held.ID, store.TriggerPush, false)
	// The held sync's job is running: its worker waits for its turn.
	var job *rivertype.JobRow
	waitUntil(t, "the held sync's job never ran", func() bool {
		jobs := b.runningSyncs(t)
		if len(jobs) == 1 {
			job = jobs[0]
		}
		return job != nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // no time to finish: cancel at once
	if err := b.q.Stop(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Stop = %v, want context.Canceled", err)
	}
	if got := b.runner.callsOf(held.ID); got != 0 {
		t.Fatalf("the held mirror synced %d times before Stop, want 0", got)
	}
	after := b.jobRow(t, job.ID)
	if len(after.Errors) != 0 || after.State == rivertype.JobStateDiscarded {
		t.Errorf("the waiting job after Stop: state %s, errors %v; want it handed back without an error", after.State, after.Errors)
	}
	b.depth(t, 1)

	r2 := newFakeRunner()
	b.start(t, r2, nil) // the default interval: a sync due alone starts at once
	if id := r2.waitStarted(t); id != held.ID {
		t.Errorf("restarted sync of mirror %d, want %d", id, held.ID)
	}
	b.waitFinal(t)
	b.depth(t, 0)
}
