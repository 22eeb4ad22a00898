package jobs

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/pgtest"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/gitee-mirror/gitee-mirror/internal/store/postgres"
	"github.com/gitee-mirror/gitee-mirror/internal/store/sqlite"
)

// noopUntil makes every Sync wait for a value on release (or its
// context's end), then find nothing to do.
// heldSync starts the sync of a new mirror, with spacing, that runs until
// released, and returns once it runs.
func heldSync(t *testing.T, spacing time.Duration) (*testBundle, *store.Mirror, chan struct{}) {
	t.Helper()
	b := setup(t, func(c *Config) { c.SyncSpacing = spacing })
	m := b.mirror(t, "widget")
	release := make(chan struct{})
	b.runner.onSync(noopUntil(release))
	b.request(t, m.ID, store.TriggerPush, false)
	b.runner.waitStarted(t)
	return b, m, release
}

func noopUntil(release <-chan struct{}) func(context.Context, *store.Mirror) (*mirror.Result, error) {
	return func(ctx context.Context, _ *store.Mirror) (*mirror.Result, error) {
		select {
		case <-release:
			return noopResult(), nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// jobRow reads a job back.
func (b *testBundle) jobRow(t *testing.T, id int64) *rivertype.JobRow {
	t.Helper()
	row, err := b.q.client.JobGet(context.Background(), id)
	if err != nil {
		t.Fatalf("JobGet: %v", err)
	}
	return row
}

// checkSpaced: the mirror had two runs, the second started at least
// spacing after the first.
func checkSpaced(t *testing.T, b *testBundle, id int64, spacing time.Duration) {
	t.Helper()
	rs := b.runs(t, id)
	if len(rs) != 2 {
		t.Fatalf("runs = %d, want the sync and one follow-up", len(rs))
	}
	if gap := rs[1].StartedAt.Sub(rs[0].StartedAt); gap < spacing {
		t.Errorf("the follow-up started %s after the first sync, want at least the spacing, %s", gap, spacing)
	}
}

// TestFollowUpIsSpaced: requests that arrive while a sync runs (a storm of
// pushes, issue 13) are served by one follow-up, which starts no sooner
// than SyncSpacing after the first sync started.
func TestFollowUpIsSpaced(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		spacing  time.Duration
		requests int
	}{
		"one request":      {spacing: 500 * time.Millisecond, requests: 1},
		"a storm":          {spacing: 500 * time.Millisecond, requests: 50},
		"the default: 1 s": {spacing: 0, requests: 20},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, m, release := heldSync(t, tt.spacing)
			for range tt.requests {
				b.request(t, m.ID, store.TriggerPush, false)
			}
			release <- struct{}{}
			b.runner.waitStarted(t)
			release <- struct{}{}
			b.waitFinal(t)
			if got := b.runner.callsOf(m.ID); got != 2 {
				t.Errorf("syncs = %d, want 2: one, and one follow-up for the %d requests during it", got, tt.requests)
			}
			checkSpaced(t, b, m.ID, b.q.cfg.SyncSpacing)
			if got := b.get(t, m.ID).RequestSeq; got != int64(tt.requests+1) {
				t.Errorf("RequestSeq = %d, want %d", got, tt.requests+1)
			}
		})
	}
}

// TestPushDoesNotBringSpacedFollowUpForward: a push while the follow-up
// waits out the spacing joins it; it does not make it run now, as it does
// a retry's backoff. River leaves a job snoozed for less than its scheduler
// interval available (due later), one snoozed for longer scheduled: both
// keep their time.
func TestPushDoesNotBringSpacedFollowUpForward(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		spacing time.Duration
		// finish: the spacing is short enough to wait for the follow-up.
		finish bool
	}{
		"short: available, due later": {spacing: 2 * time.Second, finish: true},
		"long: scheduled":             {spacing: time.Hour},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, m, release := heldSync(t, tt.spacing)
			b.request(t, m.ID, store.TriggerPush, false)
			release <- struct{}{}
			ev := b.waitEvent(t, river.EventKindJobSnoozed)

			waiting := b.jobRow(t, ev.Job.ID)
			first := b.runs(t, m.ID)[0]
			if due := waiting.ScheduledAt.Sub(first.StartedAt); due < tt.spacing {
				t.Errorf("the follow-up is due %s after the first sync started, want at least %s", due, tt.spacing)
			}
			for range 3 {
				b.request(t, m.ID, store.TriggerPush, false)
			}
			after := b.jobRow(t, ev.Job.ID)
			if !after.ScheduledAt.Equal(waiting.ScheduledAt) {
				t.Errorf("a push moved the waiting follow-up from %s to %s", waiting.ScheduledAt, after.ScheduledAt)
			}
			if !tt.finish {
				if after.State != rivertype.JobStateScheduled {
					t.Errorf("follow-up is %s, want scheduled", after.State)
				}
				if got := b.runner.callsOf(m.ID); got != 1 {
					t.Errorf("syncs = %d within the spacing of an hour, want 1", got)
				}
				b.depth(t, 1)
				return
			}
			b.runner.waitStarted(t)
			release <- struct{}{}
			b.waitFinal(t)
			if got := b.runner.callsOf(m.ID); got != 2 {
				t.Errorf("syncs = %d, want 2: the pushes during the wait joined the follow-up", got)
			}
			checkSpaced(t, b, m.ID, tt.spacing)
		})
	}
}

// TestRequestAfterSyncIsSpaced: a request while no sync of the mirror runs
// or waits is synced at once if the mirror's last sync started a spacing
// ago or more (or it never synced); right after a sync it waits for the
// rest of the spacing, so that a mirror pushed every few milliseconds
// (issue 13's intake) syncs about once a spacing, not back to back. The
// requests meanwhile join the waiting job, and do not bring it forward.
func TestRequestAfterSyncIsSpaced(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		spacing time.Duration
		// finish: the spacing is short enough to wait for the second sync;
		// on a slow machine the request may come after it has passed, so
		// only the start times are checked then.
		finish bool
	}{
		"short: the second sync a spacing after the first": {spacing: 2 * time.Second, finish: true},
		"an hour: the second waits":                        {spacing: time.Hour},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, func(c *Config) { c.SyncSpacing = tt.spacing })
			m := b.mirror(t, "widget")
			b.request(t, m.ID, store.TriggerPush, false)
			b.runner.waitStarted(t)
			if first := b.waitFinal(t); first.Kind != river.EventKindJobCompleted {
				t.Fatalf("first sync's job %s, want completed: a mirror that never synced syncs at once", first.Kind)
			}
			started := b.get(t, m.ID).SyncStartedAt
			if started.IsZero() {
				t.Fatal("SyncStartedAt not recorded by the first sync")
			}
			b.request(t, m.ID, store.TriggerPush, false)
			if tt.finish {
				b.runner.waitStarted(t)
				b.waitFinal(t)
				if got := b.runner.callsOf(m.ID); got != 2 {
					t.Errorf("syncs = %d, want 2", got)
				}
				rs := b.runs(t, m.ID)
				if len(rs) != 2 {
					t.Fatalf("runs = %d, want 2", len(rs))
				}
				if gap := rs[1].StartedAt.Sub(rs[0].StartedAt); gap < tt.spacing-spacingSlack {
					t.Errorf("the second sync started %s after the first, want the spacing, %s", gap, tt.spacing)
				}
				return
			}
			ev := b.waitEvent(t, river.EventKindJobSnoozed)
			waiting := b.jobRow(t, ev.Job.ID)
			if due := waiting.ScheduledAt.Sub(started); due < tt.spacing-spacingSlack {
				t.Errorf("the second sync is due %s after the first started, want the spacing, %s", due, tt.spacing)
			}
			for range 5 {
				b.request(t, m.ID, store.TriggerPush, false)
			}
			if after := b.jobRow(t, ev.Job.ID); !after.ScheduledAt.Equal(waiting.ScheduledAt) {
				t.Errorf("a push moved the waiting sync from %s to %s", waiting.ScheduledAt, after.ScheduledAt)
			}
			if got := b.runner.callsOf(m.ID); got != 1 {
				t.Errorf("syncs = %d within the spacing of an hour, want 1", got)
			}
			b.depth(t, 1)
		})
	}
}

func TestSpacingLeft(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	tests := map[string]struct {
		prev    time.Time
		spacing time.Duration
		want    time.Duration
	}{
		"never synced":                  {time.Time{}, time.Second, 0},
		"no spacing":                    {now, 0, 0},
		"started a spacing ago":         {now.Add(-time.Second), time.Second, 0},
		"started long ago":              {now.Add(-time.Hour), time.Second, 0},
		"started 300 ms ago":            {now.Add(-300 * time.Millisecond), time.Second, 700 * time.Millisecond},
		"just started":                  {now, time.Second, time.Second},
		"within the slack":              {now.Add(-time.Second + spacingSlack/2), time.Second, 0},
		"another replica's clock ahead": {now.Add(time.Hour), time.Second, time.Second},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := spacingLeft(tt.prev, tt.spacing, now); got != tt.want {
				t.Errorf("spacingLeft(%s, %s) = %s, want %s", tt.prev, tt.spacing, got, tt.want)
			}
		})
	}
}

// TestPushBringsRetryForward: a push does not wait out the backoff of a
// failed sync (an hour here), only what is left of the spacing since that
// sync started: the retry is a retry, not a follow-up.
func TestPushBringsRetryForward(t *testing.T) {
	t.Parallel()
	tests := map[string]time.Duration{
		"default spacing": 0,
		"a short spacing": 300 * time.Millisecond,
		"no spacing":      -1,
	}
	for name, spacing := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// Retries wait an hour: only the push can make the second sync run.
			b := setup(t, func(c *Config) {
				c.RetryPolicy = &BackoffPolicy{Base: time.Hour, Max: time.Hour}
				c.SyncSpacing = spacing
			})
			m := b.mirror(t, "widget")
			var n atomic.Int32
			b.runner.onSync(func(context.Context, *store.Mirror) (*mirror.Result, error) {
				if n.Add(1) == 1 {
					return nil, failure.New(failure.Network, "Gitee answered 502 Bad Gateway")
				}
				return okResult(), nil
			})
			b.request(t, m.ID, store.TriggerPush, true)
			b.waitEvent(t, river.EventKindJobFailed)
			b.request(t, m.ID, store.TriggerPush, true)
			b.waitFinal(t)
			if got := b.runner.callsOf(m.ID); got != 2 {
				t.Errorf("syncs = %d, want 2", got)
			}
			if got := b.get(t, m.ID).Status; got != store.StatusInSync {
				t.Errorf("status = %s, want in sync", got)
			}
		})
	}
}

func TestBringForward(t *testing.T) {
	t.Parallel()
	ran := time.Now().Add(-time.Second)
	tests := map[string]struct {
		row  rivertype.JobRow
		want bool
	}{
		"retry backing off":           {rivertype.JobRow{State: rivertype.JobStateRetryable, AttemptedAt: &ran}, true},
		"reconcile turn, never ran":   {rivertype.JobRow{State: rivertype.JobStateScheduled}, true},
		"follow-up waiting (snoozed)": {rivertype.JobRow{State: rivertype.JobStateScheduled, AttemptedAt: &ran}, false},
		"short snooze: available":     {rivertype.JobRow{State: rivertype.JobStateAvailable, AttemptedAt: &ran}, false},
		"waiting its turn to run":     {rivertype.JobRow{State: rivertype.JobStateAvailable}, false},
		"running":                     {rivertype.JobRow{State: rivertype.JobStateRunning, AttemptedAt: &ran}, false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := bringForward(&tt.row); got != tt.want {
				t.Errorf("bringForward(%s, attempted %v) = %v, want %v", tt.row.State, tt.row.AttemptedAt != nil, got, tt.want)
			}
		})
	}
}

func TestSyncSpacingDefaults(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		spacing, want time.Duration
	}{
		"the default":    {spacing: 0, want: time.Second},
		"its own":        {spacing: 250 * time.Millisecond, want: 250 * time.Millisecond},
		"negative: none": {spacing: -1, want: 0},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := Config{DB: (&sqlite.Store{}).Jobs(), Store: &sqlite.Store{}, Runner: newFakeRunner(), SyncSpacing: tt.spacing}.withDefaults()
			if err != nil {
				t.Fatal(err)
			}
			if got := c.syncSpacing(); got != tt.want {
				t.Errorf("syncSpacing() = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestSnoozeUntil(t *testing.T) {
	t.Parallel()
	if got := snoozeUntil(time.Time{}); got != 0 {
		t.Errorf("snoozeUntil(zero time) = %s, want 0", got)
	}
	if got := snoozeUntil(time.Now().Add(-time.Second)); got != 0 {
		t.Errorf("snoozeUntil(a second ago) = %s, want 0", got)
	}
	if got := snoozeUntil(time.Now().Add(time.Hour)); got <= 59*time.Minute || got > time.Hour+storedTimeSlack {
		t.Errorf("snoozeUntil(in an hour) = %s, want an hour and at most %s more", got, storedTimeSlack)
	}
}

// TestSpacingAcrossReplicasOnPostgres: the spacing is the job's, in the
// database, so it holds whichever replica takes the requests and runs the
// follow-up, and a push through another replica does not bring the
// follow-up forward either.
func TestSpacingAcrossReplicasOnPostgres(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	runner := newFakeRunner()
	release := make(chan struct{})
	runner.onSync(noopUntil(release))
	var stores []*postgres.Store
	var queues []*Queue
	var events []<-chan *river.Event
	for i := range 2 {
		st, err := postgres.Open(ctx, db.URL(), nil)
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		t.Cleanup(func() { _ = st.Close() })
		q, err := New(ctx, Config{
			DB: st.Jobs(), Store: st, Runner: runner, Logger: testLogger(t),
			PollInterval: 10 * time.Millisecond, ReconcileInterval: -1,
		})
		if err != nil {
			t.Fatalf("replica %d: New: %v", i, err)
		}
		ev, cancel := q.client.Subscribe(river.EventKindJobSnoozed, river.EventKindJobCompleted)
		if err := q.Start(ctx); err != nil {
			t.Fatalf("replica %d: Start: %v", i, err)
		}
		t.Cleanup(func() {
			cancel()
			ctx, done := context.WithTimeout(context.Background(), waitFor)
			defer done()
			_ = q.Stop(ctx)
		})
		stores, queues, events = append(stores, st), append(queues, q), append(events, ev)
	}
	// wait returns the next event of kind from either replica.
	wait := func(kind river.EventKind) *river.Event {
		t.Helper()
		deadline := time.After(waitFor)
		for {
			var ev *river.Event
			select {
			case ev = <-events[0]:
			case ev = <-events[1]:
			case <-deadline:
				t.Fatalf("no %s event within %s", kind, waitFor)
			}
			if ev.Kind == kind {
				return ev
			}
		}
	}
	st, a, b := stores[0], queues[0], queues[1]
	if err := st.UpsertInstallation(ctx, store.Installation{ID: installationID, Account: "acme", AccountType: "Organization"}); err != nil {
		t.Fatal(err)
	}
	m := &store.Mirror{InstallationID: installationID, GitHubRepoID: 1, A: store.Side{Owner: "acme", Name: "r"},
		B: store.Side{Owner: "acme", Name: "r"}, Direction: store.AToB, ConfigSource: "settings"}
	if err := st.CreateMirror(ctx, m); err != nil {
		t.Fatal(err)
	}
	request := func(q *Queue) {
		t.Helper()
		if err := q.RequestSync(ctx, m.ID, store.TriggerPush, false); err != nil {
			t.Fatalf("RequestSync: %v", err)
		}
	}

	request(a)
	runner.waitStarted(t)
	for range 5 {
		request(b)
	}
	release <- struct{}{}
	snoozed := wait(river.EventKindJobSnoozed)
	before, err := a.client.JobGet(ctx, snoozed.Job.ID)
	if err != nil {
		t.Fatal(err)
	}
	request(b)
	after, err := b.client.JobGet(ctx, snoozed.Job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !after.ScheduledAt.Equal(before.ScheduledAt) {
		t.Errorf("a push through the other replica moved the waiting follow-up from %s to %s", before.ScheduledAt, after.ScheduledAt)
	}
	runner.waitStarted(t)
	release <- struct{}{}
	wait(river.EventKindJobCompleted)

	if got := runner.callsOf(m.ID); got != 2 {
		t.Errorf("syncs = %d, want 2", got)
	}
	rs, err := st.ListRuns(ctx, m.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 {
		t.Fatalf("runs = %d, want 2", len(rs))
	}
	// Newest first.
	if gap := rs[0].StartedAt.Sub(rs[1].StartedAt); gap < DefaultSyncSpacing {
		t.Errorf("the follow-up started %s after the first sync, want at least %s", gap, DefaultSyncSpacing)
	}

	// A request right after it, through either replica, waits for the
	// rest of the spacing since the follow-up started, as the database
	// recorded it (on a slow machine the spacing may have passed by then:
	// the start times hold either way).
	request(a)
	runner.waitStarted(t)
	release <- struct{}{}
	wait(river.EventKindJobCompleted)
	if got := runner.callsOf(m.ID); got != 3 {
		t.Errorf("syncs = %d, want 3", got)
	}
	rs, err = st.ListRuns(ctx, m.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 3 {
		t.Fatalf("runs = %d, want 3", len(rs))
	}
	if gap := rs[0].StartedAt.Sub(rs[1].StartedAt); gap < DefaultSyncSpacing-spacingSlack {
		t.Errorf("the third sync started %s after the follow-up, want at least %s", gap, DefaultSyncSpacing)
	}
}
