package jobs

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/riverqueue/river"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/gitee-mirror/gitee-mirror/internal/store/sqlite"
)

// blockingSync makes every Sync wait for a value on release (or its
// context's end).
func blockingSync(release <-chan struct{}) func(context.Context, *store.Mirror) (*mirror.Result, error) {
	return func(ctx context.Context, _ *store.Mirror) (*mirror.Result, error) {
		select {
		case <-release:
			return okResult(), nil
		case <-ctx.Done():
			return nil, failure.Wrap(failure.Network, ctx.Err(), "the sync was cancelled")
		}
	}
}

func TestOneSyncPerMirror(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	m := b.mirror(t, "widget")
	release := make(chan struct{})
	b.runner.onSync(blockingSync(release))

	b.request(t, m.ID, store.TriggerPush, true)
	b.runner.waitStarted(t)
	for range 10 {
		b.request(t, m.ID, store.TriggerPush, true)
	}
	b.depth(t, 1) // the running job; every hint joined it
	release <- struct{}{}

	// The hints arrived during the sync: exactly one follow-up runs.
	b.waitEvent(t, river.EventKindJobSnoozed)
	b.runner.waitStarted(t)
	release <- struct{}{}
	b.waitFinal(t)

	if got := b.runner.callsOf(m.ID); got != 2 {
		t.Errorf("syncs = %d, want 2", got)
	}
	if b.runner.maxRunning != 1 {
		t.Errorf("at most %d syncs of one mirror ran at once, want 1", b.runner.maxRunning)
	}
	b.depth(t, 0)
	if rs := b.runs(t, m.ID); len(rs) != 2 || rs[0].Outcome != store.OutcomeOK || rs[1].Outcome != store.OutcomeOK {
		t.Errorf("runs = %+v, want two ok runs", rs)
	}
	if got := b.get(t, m.ID).Status; got != store.StatusInSync {
		t.Errorf("status = %s, want %s", got, store.StatusInSync)
	}
	var c dto.Metric
	if err := b.metrics.Syncs.WithLabelValues(string(store.OutcomeOK)).Write(&c); err != nil || c.GetCounter().GetValue() != 2 {
		got := c.GetCounter().GetValue()
		t.Errorf("ok syncs counted = %v, want 2", got)
	}
}

func TestRequestDuringSyncRunsAgain(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	m := b.mirror(t, "widget")
	release := make(chan struct{})
	b.runner.onSync(noopUntil(release))
	// A reconcile is running; a push arrives while it lists refs.
	if err := b.q.enqueueSync(context.Background(), m.ID, store.TriggerReconcile); err != nil {
		t.Fatal(err)
	}
	b.runner.waitStarted(t)
	b.request(t, m.ID, store.TriggerPush, false)
	release <- struct{}{}
	b.runner.waitStarted(t)
	release <- struct{}{}
	b.waitFinal(t)

	rs := b.runs(t, m.ID)
	if len(rs) != 2 {
		t.Fatalf("runs = %d, want 2 (the status was new, so the reconcile is recorded too)", len(rs))
	}
	if rs[1].Trigger != store.TriggerPush {
		t.Errorf("second run's trigger = %q, want %q", rs[1].Trigger, store.TriggerPush)
	}
}

// Many requests while a sync runs (pushes at a high rate, issue 13) ask
// for one more sync after it, not one each.
func TestManyRequestsDuringSyncRunOnceMore(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	m := b.mirror(t, "widget")
	release := make(chan struct{})
	b.runner.onSync(noopUntil(release))
	b.request(t, m.ID, store.TriggerPush, false)
	b.runner.waitStarted(t)
	for range 20 {
		b.request(t, m.ID, store.TriggerPush, false)
	}
	release <- struct{}{}
	b.runner.waitStarted(t)
	// More while the follow-up runs: one more again.
	for range 20 {
		b.request(t, m.ID, store.TriggerPush, false)
	}
	release <- struct{}{}
	b.runner.waitStarted(t)
	release <- struct{}{}
	b.waitFinal(t)
	if got := b.runner.callsOf(m.ID); got != 3 {
		t.Errorf("syncs = %d for a request, 20 during its sync and 20 during the next; want 3", got)
	}
}

func TestPauseAfterFailuresAndResume(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	m := b.mirror(t, "widget")
	var fail atomic.Bool
	fail.Store(true)
	b.runner.onSync(func(context.Context, *store.Mirror) (*mirror.Result, error) {
		if fail.Load() {
			return nil, failure.New(failure.Network, "cannot reach target https://gitee.example/acme/widget.git: connection refused")
		}
		return okResult(), nil
	})
	b.request(t, m.ID, store.TriggerPush, true)
	b.waitFinal(t) // four retries, then the fifth failure pauses it

	if got := b.runner.callsOf(m.ID); got != DefaultMaxFailures {
		t.Errorf("syncs = %d, want %d", got, DefaultMaxFailures)
	}
	got := b.get(t, m.ID)
	if !got.Paused || !got.PausedByFailures || !strings.Contains(got.PausedReason, "paused after 5 consecutive failures") ||
		!strings.Contains(got.PausedReason, "connection refused") {
		t.Errorf("mirror paused=%v by failures=%v reason=%q; want paused with the last error", got.Paused, got.PausedByFailures, got.PausedReason)
	}
	if got.LastErrorClass != string(failure.Network) {
		t.Errorf("last error class = %q, want network", got.LastErrorClass)
	}

	// A new push resumes it.
	fail.Store(false)
	b.request(t, m.ID, store.TriggerPush, true)
	b.waitFinal(t)
	got = b.get(t, m.ID)
	if got.Paused || got.Status != store.StatusInSync || got.ConsecutiveFailures != 0 {
		t.Errorf("after a push: paused=%v status=%s failures=%d; want resumed and in sync", got.Paused, got.Status, got.ConsecutiveFailures)
	}
	if rs := b.runs(t, m.ID); len(rs) != DefaultMaxFailures+1 {
		t.Errorf("runs = %d, want %d", len(rs), DefaultMaxFailures+1)
	}
}

func TestPersonsPauseSurvivesPush(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	m := b.mirror(t, "widget")
	if err := b.st.SetPaused(context.Background(), m.ID, true, "paused by alice"); err != nil {
		t.Fatal(err)
	}
	b.request(t, m.ID, store.TriggerPush, true)
	b.waitFinal(t)
	if got := b.runner.callsOf(m.ID); got != 0 {
		t.Errorf("syncs = %d, want none while paused", got)
	}
	if got := b.get(t, m.ID); !got.Paused || got.PausedReason != "paused by alice" {
		t.Errorf("paused=%v reason=%q; want the person's pause kept", got.Paused, got.PausedReason)
	}
}

func TestPermanentErrorNotRetried(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	m := b.mirror(t, "widget")
	b.runner.onSync(func(context.Context, *store.Mirror) (*mirror.Result, error) {
		return nil, failure.New(failure.Auth, "target rejected the credentials")
	})
	b.request(t, m.ID, store.TriggerPush, true)
	ev := b.waitFinal(t)
	if got := b.runner.callsOf(m.ID); got != 1 {
		t.Errorf("syncs = %d, want 1", got)
	}
	if ev.Job.Attempt != 1 {
		t.Errorf("job attempts = %d, want 1", ev.Job.Attempt)
	}
	rs := b.runs(t, m.ID)
	if len(rs) != 1 || rs[0].Outcome != store.OutcomeFailed || rs[0].ErrorClass != string(failure.Auth) ||
		!strings.Contains(rs[0].ErrorMessage, "rejected the credentials") {
		t.Errorf("runs = %+v, want one failed auth run", rs)
	}
	if got := b.get(t, m.ID); got.Paused || got.Status != store.StatusFailing {
		t.Errorf("paused=%v status=%s; want failing, not paused", got.Paused, got.Status)
	}
	b.depth(t, 0)
}

func TestTransientErrorRetried(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	m := b.mirror(t, "widget")
	var n atomic.Int32
	b.runner.onSync(func(context.Context, *store.Mirror) (*mirror.Result, error) {
		if n.Add(1) == 1 {
			return nil, failure.New(failure.RateLimited, "Gitee asks to slow down")
		}
		return okResult(), nil
	})
	b.request(t, m.ID, store.TriggerPush, true)
	b.waitEvent(t, river.EventKindJobFailed) // the first attempt: retryable
	b.waitFinal(t)
	if got := b.runner.callsOf(m.ID); got != 2 {
		t.Errorf("syncs = %d, want 2", got)
	}
	rs := b.runs(t, m.ID)
	if len(rs) != 2 || rs[0].ErrorClass != string(failure.RateLimited) || rs[1].Outcome != store.OutcomeOK {
		t.Errorf("runs = %+v, want rate-limited then ok", rs)
	}
}

func TestRefLevelPermissionIsReported(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	m := b.mirror(t, "widget")
	const msg = "GitHub refused to update a workflow file: the token lacks the `workflows` permission."
	b.runner.onSync(func(context.Context, *store.Mirror) (*mirror.Result, error) {
		return &mirror.Result{Refs: []mirror.RefResult{
			{Ref: "refs/heads/main", Outcome: mirror.Updated, Source: "b", Target: "a"},
			{Ref: "refs/heads/ci", Outcome: mirror.Rejected, Class: failure.Permission, Message: msg, Source: "c"},
		}}, nil
	})
	b.request(t, m.ID, store.TriggerPush, true)
	b.waitFinal(t)
	rs := b.runs(t, m.ID)
	if len(rs) != 1 || rs[0].ErrorClass != string(failure.Permission) || !strings.Contains(rs[0].ErrorMessage, "`workflows` permission") ||
		!strings.Contains(rs[0].ErrorMessage, "refs/heads/ci") || len(rs[0].Refs) != 2 {
		t.Errorf("runs = %+v, want the workflows permission reported with both refs", rs)
	}
	if got := b.runner.callsOf(m.ID); got != 1 {
		t.Errorf("syncs = %d, want 1 (permission is permanent)", got)
	}
}

func TestStopMidSyncResumesAfterRestart(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	m := b.mirror(t, "widget")
	b.runner.onSync(blockingSync(nil)) // only cancellation ends it
	b.request(t, m.ID, store.TriggerPush, true)
	b.runner.waitStarted(t)

	ctx, cancel := context.WithCancel(context.Background())
	cancel() // no time to finish: cancel at once
	if err := b.q.Stop(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Stop = %v, want context.Canceled", err)
	}
	b.depth(t, 1) // handed back, not lost
	if rs := b.runs(t, m.ID); len(rs) != 1 || rs[0].Outcome != store.OutcomeInterrupted || !strings.Contains(rs[0].ErrorMessage, "interrupted") {
		t.Errorf("runs = %+v, want one interrupted run", rs)
	}
	if got := b.get(t, m.ID).ConsecutiveFailures; got != 0 {
		t.Errorf("ConsecutiveFailures = %d after a shutdown, want 0: an interruption is not a failure", got)
	}

	// A new process on the same database finishes it.
	r2 := newFakeRunner()
	b.start(t, r2, nil)
	if id := r2.waitStarted(t); id != m.ID {
		t.Errorf("restarted sync of mirror %d, want %d", id, m.ID)
	}
	b.waitFinal(t)
	if got := b.get(t, m.ID).Status; got != store.StatusInSync {
		t.Errorf("status = %s, want in sync", got)
	}
	b.depth(t, 0)
}

func TestReconcile(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	quiet := b.mirror(t, "quiet")
	drifted := b.mirror(t, "drifted")
	paused := b.mirror(t, "paused")
	if err := b.st.SetPaused(ctx, paused.ID, true, "paused by alice"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{quiet.ID, drifted.ID} {
		if err := b.st.SetStatus(ctx, id, store.StatusInSync); err != nil {
			t.Fatal(err)
		}
	}
	b.runner.onSync(func(_ context.Context, m *store.Mirror) (*mirror.Result, error) {
		if m.ID == drifted.ID {
			return okResult(), nil
		}
		return noopResult(), nil
	})

	// The periodic job runs on start; restart the queue with it enabled.
	stop, done := context.WithTimeout(ctx, waitFor)
	defer done()
	if err := b.q.Stop(stop); err != nil {
		t.Fatal(err)
	}
	b.start(t, b.runner, func(c *Config) { c.ReconcileInterval, c.ReconcileSpread = DefaultReconcileInterval, -1 })

	seen := map[int64]bool{}
	for range 2 {
		seen[b.runner.waitStarted(t)] = true
	}
	for range 2 {
		b.waitFinal(t)
	}
	if !seen[quiet.ID] || !seen[drifted.ID] {
		t.Errorf("reconciled %v, want mirrors %d and %d", seen, quiet.ID, drifted.ID)
	}
	if n := b.runner.callsOf(paused.ID); n != 0 {
		t.Errorf("paused mirror synced %d times", n)
	}
	if rs := b.runs(t, quiet.ID); len(rs) != 0 {
		t.Errorf("a no-op reconcile recorded %d runs, want none", len(rs))
	}
	if got := b.get(t, quiet.ID).Status; got != store.StatusInSync {
		t.Errorf("quiet mirror status = %s, want in sync", got)
	}
	if rs := b.runs(t, drifted.ID); len(rs) != 1 || rs[0].Trigger != store.TriggerReconcile {
		t.Errorf("drifted mirror runs = %+v, want one reconcile run", rs)
	}
}

func TestChanged(t *testing.T) {
	t.Parallel()
	a := &store.Mirror{ID: 1, B: store.Side{Owner: "o", Name: "a"}, Direction: store.AToB, Prune: true}
	b := &store.Mirror{ID: 2, B: store.Side{Owner: "o", Name: "b"}, Direction: store.AToB}
	a2 := *a
	a2.ConfigSHA, a2.ConfigSource = "new", store.SourceFile // not a settings change
	b2 := *b
	b2.Branches = []string{"main"}
	c := &store.Mirror{ID: 3, B: store.Side{Owner: "o", Name: "c"}}
	got := changed([]*store.Mirror{a, b}, []*store.Mirror{&a2, &b2, c})
	if len(got) != 2 || got[0].ID != 2 || got[1].ID != 3 {
		t.Errorf("changed = %v, want mirrors 2 (filters changed) and 3 (new)", got)
	}
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	base := Config{DB: (&sqlite.Store{}).Jobs(), Store: &sqlite.Store{}, Runner: newFakeRunner()}
	c, err := base.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxFailures != 5 || c.SyncTimeout != 30*time.Minute || c.ReconcileInterval != 10*time.Minute ||
		c.PollInterval != 100*time.Millisecond || c.RescueAfter != 35*time.Minute || c.Workers != 4 || c.RetryPolicy == nil || c.StartInterval != 100*time.Millisecond {
		t.Errorf("defaults = %+v", c)
	}
	bad := base
	bad.RescueAfter = time.Minute
	if _, err := bad.withDefaults(); err == nil || !strings.Contains(err.Error(), "RescueAfter") {
		t.Errorf("RescueAfter below the job timeout: err = %v", err)
	}
	if _, err := (Config{}).withDefaults(); err == nil {
		t.Error("a Config without DB was accepted")
	}
	p := &BackoffPolicy{}
	for attempt, want := range map[int]time.Duration{1: 5 * time.Second, 2: 10 * time.Second, 8: 10 * time.Minute} {
		if d := p.delay(attempt); d < want || d > want+want/10 {
			t.Errorf("delay(%d) = %s, want %s plus up to a tenth", attempt, d, want)
		}
	}
}

// A mirror deleted while it syncs (dropped from the settings file) ends its
// job at once: no error, no retry of a sync that has nothing left to record.
func TestMirrorDeletedDuringSync(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	m := b.mirror(t, "widget")
	release := make(chan struct{})
	b.runner.onSync(blockingSync(release))
	b.request(t, m.ID, store.TriggerPush, true)
	b.runner.waitStarted(t)
	if err := b.st.DeleteMirror(context.Background(), m.ID); err != nil {
		t.Fatalf("DeleteMirror: %v", err)
	}
	release <- struct{}{}
	ev := b.waitEvent(t, river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled)
	if ev.Kind != river.EventKindJobCompleted || ev.Job.Attempt != 1 {
		t.Errorf("job %s after %d attempts, want completed after 1", ev.Kind, ev.Job.Attempt)
	}
	if got := b.runner.callsOf(m.ID); got != 1 {
		t.Errorf("syncs = %d, want 1", got)
	}
	b.depth(t, 0)
}
