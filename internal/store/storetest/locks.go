package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// LockOpener returns two handles on one job database for test t: two
// replicas' where the backend has several (Postgres), or the same one
// twice (SQLite, whose locks are its one process's).
type LockOpener func(t *testing.T) (a, b store.JobDB)

// stillWaiting is how long a lock taker is watched for not getting a held
// lock. It can only make the test pass wrongly on a very slow machine,
// never fail it wrongly.
const stillWaiting = 100 * time.Millisecond

// waiting starts take, which must wait for a lock held elsewhere: it fails
// t if take returns within stillWaiting. The returned channel gets take's
// error once it returns (its lock released at once).
func waiting(t *testing.T, what string, take func() (func(), error)) <-chan error {
	t.Helper()
	got := make(chan error, 1)
	go func() {
		u, err := take()
		if err == nil {
			u()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("%s did not wait (%v)", what, err)
	case <-time.After(stillWaiting):
	}
	return got
}

// RunLocks checks a backend's key locks (store.JobDB's LockKey and
// LockKeys): what LockKeys holds, LockKey waits for, on either handle; a
// key given twice is one lock; callers whose keys overlap, given in any
// order, never deadlock.
func RunLocks(t *testing.T, open LockOpener) {
	t.Helper()
	t.Run("ManyHoldsEach", func(t *testing.T) {
		t.Parallel()
		a, b := open(t)
		ctx := t.Context()
		unlock, err := a.LockKeys(ctx, []string{"mirror:2", "mirror:1", "mirror:2"})
		noErr(t, "LockKeys", err)
		got := waiting(t, "LockKey of a key LockKeys holds", func() (func(), error) { return b.LockKey(ctx, "mirror:1") })
		unlock()
		noErr(t, "LockKey after the release", <-got)
		// Released once though given twice: both free now.
		for _, k := range []string{"mirror:1", "mirror:2"} {
			u, err := b.LockKey(ctx, k)
			noErr(t, "LockKey "+k, err)
			u()
		}
		u, err := a.LockKeys(ctx, nil)
		noErr(t, "LockKeys of none", err)
		u()
	})

	t.Run("ManyWaitsForOne", func(t *testing.T) {
		t.Parallel()
		a, b := open(t)
		ctx := t.Context()
		unlock, err := b.LockKey(ctx, "mirror:7")
		noErr(t, "LockKey", err)
		got := waiting(t, "LockKeys of a key LockKey holds", func() (func(), error) {
			return a.LockKeys(ctx, []string{"mirror:6", "mirror:7", "mirror:8"})
		})
		unlock()
		noErr(t, "LockKeys after the release", <-got)
	})

	t.Run("OverlapNoDeadlock", func(t *testing.T) {
		t.Parallel()
		a, b := open(t)
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		sets := [][]string{
			{"mirror:1", "mirror:2", "mirror:3", "mirror:4"},
			{"mirror:4", "mirror:3", "mirror:2", "mirror:1"},
			{"mirror:3", "mirror:1"},
		}
		var wg sync.WaitGroup
		errs := make(chan error, 2*len(sets))
		for i, keys := range sets {
			for _, db := range []store.JobDB{a, b} {
				wg.Go(func() {
					for n := range 30 {
						u, err := db.LockKeys(ctx, keys)
						if err != nil {
							errs <- fmt.Errorf("set %d, round %d: %w (Postgres reports a deadlock; elsewhere it ends in the timeout)", i, n, err)
							return
						}
						u()
					}
				})
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}
