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
		got := make(chan error, 1)
		go func() {
			u, err := b.LockKey(ctx, "mirror:1")
			if err == nil {
				u()
			}
			got <- err
		}()
		select {
		case err := <-got:
			t.Fatalf("LockKey took a key LockKeys holds (%v)", err)
		case <-time.After(stillWaiting):
		}
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
		got := make(chan error, 1)
		go func() {
			u, err := a.LockKeys(ctx, []string{"mirror:6", "mirror:7", "mirror:8"})
			if err == nil {
				u()
			}
			got <- err
		}()
		select {
		case err := <-got:
			t.Fatalf("LockKeys took a key LockKey holds (%v)", err)
		case <-time.After(stillWaiting):
		}
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
