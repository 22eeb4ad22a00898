package jobs

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// frozenStore stands for a process that froze: once frozen, the first
// sync's lease renewals fail.
type frozenStore struct {
	store.Store
	frozen   atomic.Bool
	firstJob atomic.Int64
}

func (s *frozenStore) TakeLease(ctx context.Context, l store.Lease, ttl time.Duration) (bool, error) {
	if !strings.HasSuffix(l.Holder, "/sweeper") {
		s.firstJob.CompareAndSwap(0, l.JobID)
	}
	return s.Store.TakeLease(ctx, l, ttl)
}

func (s *frozenStore) RenewLease(ctx context.Context, l store.Lease, ttl time.Duration) error {
	if s.frozen.Load() && l.JobID == s.firstJob.Load() {
		return errors.New("process frozen")
	}
	return s.Store.RenewLease(ctx, l, ttl)
}

// deadSetup is a queue whose first sync dies: it never returns (until the
// test ends) and stops renewing its lease, as a process killed mid-sync
// leaves its job. Later syncs succeed.
func deadSetup(t *testing.T, sweepEvery time.Duration) (*testBundle, *store.Mirror) {
	t.Helper()
	fs := &frozenStore{}
	b := setup(t, func(c *Config) {
		fs.Store = c.Store
		c.Store = fs
		c.LeaseTTL, c.LeaseRenew, c.SweepEvery = time.Second, 100*time.Millisecond, sweepEvery
	})
	gate := make(chan struct{})
	t.Cleanup(func() { close(gate) })
	var calls atomic.Int32
	b.runner.onSync(func(ctx context.Context, _ *store.Mirror) (*mirror.Result, error) {
		if calls.Add(1) == 1 {
			fs.frozen.Store(true)
			<-gate // dead: deaf to its context too
			return nil, ctx.Err()
		}
		return okResult(), nil
	})
	m := b.mirror(t, "widget")
	b.request(t, m.ID, store.TriggerPush, true)
	b.runner.waitStarted(t)
	return b, m
}

// checkRescued: the dead job was cancelled with the reason, the mirror was
// synced by a fresh job, and the dead run is recorded as interrupted.
func checkRescued(t *testing.T, b *testBundle, m *store.Mirror) {
	t.Helper()
	b.waitFinal(t)
	if got := b.get(t, m.ID).Status; got != store.StatusInSync {
		t.Errorf("status = %s, want in sync", got)
	}
	res, err := b.q.client.JobList(context.Background(), river.NewJobListParams().Kinds(SyncArgs{}.Kind()).
		States(rivertype.JobStateCancelled))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Jobs) != 1 || len(res.Jobs[0].Errors) == 0 || !strings.Contains(res.Jobs[0].Errors[len(res.Jobs[0].Errors)-1].Error, "lease") {
		t.Errorf("cancelled sync jobs = %+v, want the dead one, with its lease named as the reason", res.Jobs)
	}
	rs := b.runs(t, m.ID)
	if len(rs) != 2 || rs[0].Outcome != store.OutcomeInterrupted || !strings.Contains(rs[0].ErrorMessage, "died") || rs[1].Outcome != store.OutcomeOK {
		for _, r := range rs {
			t.Logf("run %d: %s %s", r.ID, r.Outcome, r.ErrorMessage)
		}
		t.Errorf("want the dead run interrupted, then an ok run")
	}
	if got := b.get(t, m.ID).ConsecutiveFailures; got != 0 {
		t.Errorf("ConsecutiveFailures = %d, want 0: a death is not the mirror's failure", got)
	}
}

// TestDeadSyncIsSweptAndRunAgain: a sync whose worker stopped renewing its
// lease is found by the sweeper once the lease lapsed, and a fresh job
// syncs the mirror; it does not wait for River's stuck-job rescue.
func TestDeadSyncIsSweptAndRunAgain(t *testing.T) {
	t.Parallel()
	b, m := deadSetup(t, 20*time.Millisecond)
	if id := b.runner.waitStarted(t); id != m.ID {
		t.Fatalf("second sync of mirror %d, want %d", id, m.ID)
	}
	checkRescued(t, b, m)
}

// TestHintDoesNotJoinDeadSync: with no sweep due, a push arriving after the
// running sync's lease lapsed replaces the dead job at once instead of
// being dropped as its duplicate.
func TestHintDoesNotJoinDeadSync(t *testing.T) {
	t.Parallel()
	b, m := deadSetup(t, time.Hour)
	// Wait until the dead sync's lease lapsed and the job ran longer than
	// a lease lasts, as the hint path requires.
	waitUntil(t, "the dead sync's lease never lapsed", func() bool {
		l, err := b.st.GetLease(context.Background(), mirrorKey(m.ID))
		if err != nil {
			t.Fatalf("GetLease: %v", err)
		}
		jobs := b.runningSyncs(t)
		return time.Now().After(l.ExpiresAt) && len(jobs) == 1 && b.q.mayBeDead(jobs[0])
	})
	select {
	case id := <-b.runner.started:
		t.Fatalf("mirror %d synced again before the hint: the sweeper ran", id)
	default:
	}
	b.request(t, m.ID, store.TriggerPush, true)
	b.runner.waitStarted(t)
	checkRescued(t, b, m)
}

// TestLiveSyncKeepsItsLease: a sync that runs for many lease lifetimes
// renews its lease and is never taken for dead; a hint joins it.
func TestLiveSyncKeepsItsLease(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) {
		c.LeaseTTL, c.LeaseRenew, c.SweepEvery = time.Second, 50*time.Millisecond, 10*time.Millisecond
	})
	release := make(chan struct{})
	b.runner.onSync(blockingSync(release))
	m := b.mirror(t, "widget")
	b.request(t, m.ID, store.TriggerPush, true)
	b.runner.waitStarted(t)
	// Outlive several leases: every renewal moves the expiry on.
	l, err := b.st.GetLease(context.Background(), mirrorKey(m.ID))
	if err != nil {
		t.Fatal(err)
	}
	first := l.ExpiresAt
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for l.ExpiresAt.Before(first.Add(2 * time.Second)) {
		<-tick.C
		if l, err = b.st.GetLease(context.Background(), mirrorKey(m.ID)); err != nil {
			t.Fatalf("the live sync's lease is gone: %v", err)
		}
	}
	b.request(t, m.ID, store.TriggerPush, true) // joins the live job
	close(release)
	ev := b.waitFinal(t)
	if got := b.runner.callsOf(m.ID); got != 2 {
		t.Logf("final event: %s of job %d, state %s", ev.Kind, ev.Job.ID, ev.Job.State)
		t.Errorf("%d syncs, want 2: the one that held its lease, and one for the hint that joined it", got)
	}
	b.runner.mu.Lock()
	defer b.runner.mu.Unlock()
	if b.runner.maxRunning != 1 {
		t.Errorf("%d syncs of one mirror at once, want 1", b.runner.maxRunning)
	}
	if _, err := b.st.GetLease(context.Background(), mirrorKey(m.ID)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("lease after the sync = %v, want released", err)
	}
}
