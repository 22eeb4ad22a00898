package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

func testLeases(t *testing.T, open Opener) {
	const ttl = time.Minute
	a := store.Lease{Key: "mirror:1", Holder: "proc-a", JobID: 10}
	b := store.Lease{Key: "mirror:1", Holder: "proc-b", JobID: 11}

	take := func(t *testing.T, bu *bundle, l store.Lease, ttl time.Duration, want bool) {
		t.Helper()
		got, err := bu.s.TakeLease(bu.ctx, l, ttl)
		noErr(t, "TakeLease", err)
		if got != want {
			t.Errorf("TakeLease(%s by %s, job %d) = %v, want %v", l.Key, l.Holder, l.JobID, got, want)
		}
	}

	tests := []struct {
		name string
		run  func(t *testing.T, bu *bundle)
	}{
		{"HeldExcludesOthers", func(t *testing.T, bu *bundle) {
			from := time.Now()
			take(t, bu, a, ttl, true)
			take(t, bu, b, ttl, false)
			take(t, bu, store.Lease{Key: a.Key, Holder: a.Holder, JobID: 99}, ttl, false) // same process, other job
			take(t, bu, store.Lease{Key: "mirror:2", Holder: "proc-b", JobID: 11}, ttl, true)
			take(t, bu, a, ttl, true) // the holder takes again: a renewal
			got, err := bu.s.GetLease(bu.ctx, a.Key)
			noErr(t, "GetLease", err)
			if got.Holder != a.Holder || got.JobID != a.JobID {
				t.Errorf("GetLease = %s job %d, want %s job %d", got.Holder, got.JobID, a.Holder, a.JobID)
			}
			if got.ExpiresAt.Before(from.Add(ttl-time.Second)) || got.ExpiresAt.After(time.Now().Add(ttl+time.Second)) {
				t.Errorf("ExpiresAt = %v, want about %v from now", got.ExpiresAt, ttl)
			}
		}},
		{"LapsedIsTakenOver", func(t *testing.T, bu *bundle) {
			take(t, bu, a, -time.Second, true) // lapsed at once
			take(t, bu, b, ttl, true)
			wantErr(t, "RenewLease by the old holder", bu.s.RenewLease(bu.ctx, a, ttl), store.ErrLeaseLost)
			noErr(t, "RenewLease by the new holder", bu.s.RenewLease(bu.ctx, b, ttl))
			noErr(t, "ReleaseLease by the old holder", bu.s.ReleaseLease(bu.ctx, a))
			got, err := bu.s.GetLease(bu.ctx, a.Key)
			noErr(t, "GetLease", err)
			if got.Holder != b.Holder {
				t.Errorf("the old holder's release freed the lease: holder = %s, want %s", got.Holder, b.Holder)
			}
		}},
		{"TakeOver", func(t *testing.T, bu *bundle) {
			over := func(old, l store.Lease, want bool) {
				t.Helper()
				got, err := bu.s.TakeOverLease(bu.ctx, old, l, ttl)
				noErr(t, "TakeOverLease", err)
				if got != want {
					t.Errorf("TakeOverLease(%s job %d → %s job %d) = %v, want %v", old.Holder, old.JobID, l.Holder, l.JobID, got, want)
				}
			}
			over(a, b, false) // nobody holds it: nothing to take over
			take(t, bu, a, ttl, true)
			over(a, b, false) // live
			noErr(t, "ReleaseLease", bu.s.ReleaseLease(bu.ctx, a))
			over(a, b, false) // released: the job finished, it did not die
			take(t, bu, a, -time.Second, true)
			over(store.Lease{Key: a.Key, Holder: a.Holder, JobID: 99}, b, false) // another job's
			over(a, b, true)
			over(a, b, false) // once
			wantErr(t, "RenewLease by the old holder", bu.s.RenewLease(bu.ctx, a, ttl), store.ErrLeaseLost)
			noErr(t, "RenewLease by the new holder", bu.s.RenewLease(bu.ctx, b, ttl))
		}},
		{"RenewKeepsItHeld", func(t *testing.T, bu *bundle) {
			take(t, bu, a, -time.Second, true)
			// Lapsed but nobody took it: the holder may renew.
			noErr(t, "RenewLease of a lapsed lease", bu.s.RenewLease(bu.ctx, a, ttl))
			take(t, bu, b, ttl, false)
			got, err := bu.s.GetLease(bu.ctx, a.Key)
			noErr(t, "GetLease", err)
			if !got.ExpiresAt.After(time.Now()) {
				t.Errorf("renewed lease expires at %v, in the past", got.ExpiresAt)
			}
		}},
		{"Release", func(t *testing.T, bu *bundle) {
			take(t, bu, a, ttl, true)
			noErr(t, "ReleaseLease", bu.s.ReleaseLease(bu.ctx, a))
			_, err := bu.s.GetLease(bu.ctx, a.Key)
			wantErr(t, "GetLease after release", err, store.ErrNotFound)
			wantErr(t, "RenewLease after release", bu.s.RenewLease(bu.ctx, a, ttl), store.ErrLeaseLost)
			noErr(t, "ReleaseLease again", bu.s.ReleaseLease(bu.ctx, a))
			take(t, bu, b, ttl, true)
		}},
		{"ConcurrentTake", func(t *testing.T, bu *bundle) {
			take(t, bu, a, -time.Second, true)
			const n = 8
			won := make([]bool, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					won[i], errs[i] = bu.s.TakeLease(bu.ctx, store.Lease{Key: a.Key, Holder: "racer", JobID: int64(100 + i)}, ttl)
				})
			}
			wg.Wait()
			count := 0
			for i := range n {
				noErr(t, "concurrent TakeLease", errs[i])
				if won[i] {
					count++
				}
			}
			if count != 1 {
				t.Errorf("%d of %d concurrent takers of a lapsed lease won, want 1", count, n)
			}
		}},
		{"SurvivesReopen", func(t *testing.T, bu *bundle) {
			take(t, bu, a, ttl, true)
			noErr(t, "Close", bu.s.Close())
			r := &bundle{ctx: t.Context(), s: open(t, true)}
			take(t, r, b, ttl, false)
			noErr(t, "RenewLease after reopen", r.s.RenewLease(r.ctx, a, ttl))
		}},
		{"Counters", func(t *testing.T, bu *bundle) {
			if v, err := bu.s.Counter(bu.ctx, "repo:1"); err != nil || v != 0 {
				t.Errorf("Counter of a new key = %d, %v; want 0", v, err)
			}
			const n = 10
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() { _, errs[i] = bu.s.BumpCounter(bu.ctx, "repo:1") })
			}
			wg.Wait()
			for _, err := range errs {
				noErr(t, "concurrent BumpCounter", err)
			}
			v, err := bu.s.BumpCounter(bu.ctx, "repo:1")
			noErr(t, "BumpCounter", err)
			if v != n+1 {
				t.Errorf("BumpCounter after %d bumps = %d, want %d", n, v, n+1)
			}
			if v, err := bu.s.Counter(bu.ctx, "repo:1"); err != nil || v != n+1 {
				t.Errorf("Counter = %d, %v; want %d", v, err, n+1)
			}
			if v, err := bu.s.Counter(bu.ctx, "repo:2"); err != nil || v != 0 {
				t.Errorf("Counter of another key = %d, %v; want 0", v, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, setup(t, open))
		})
	}
}
