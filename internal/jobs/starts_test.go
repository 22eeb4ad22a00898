package jobs

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

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

// TestReconcileSyncsAreNotHeld: with a start interval of an hour, one push
// sync takes the replica's start and the next push's sync waits, while a
// reconcile round's sync (the round spaces its syncs itself) runs at once.
// With the reconcile held too, the test fails waiting for it.
func TestReconcileSyncsAreNotHeld(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.StartInterval = time.Hour })
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
		t.Errorf("the second push's sync ran %d times within the start interval of an hour, want 0", got)
	}
}
