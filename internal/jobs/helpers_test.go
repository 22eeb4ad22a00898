package jobs

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/gitee-mirror/gitee-mirror/internal/metrics"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/gitee-mirror/gitee-mirror/internal/store/sqlite"
)

// waitFor bounds every wait in these tests.
const waitFor = 20 * time.Second

const installationID = 77

// testBundle is one queue on a fresh SQLite file.
type testBundle struct {
	path    string
	st      *sqlite.Store
	q       *Queue
	runner  *fakeRunner
	metrics *metrics.Metrics
	events  <-chan *river.Event
}

// setup starts a queue with fast polling, no periodic reconcile and
// millisecond retries; edit may change the Config first.
func setup(t *testing.T, edit func(*Config)) *testBundle {
	t.Helper()
	b := &testBundle{path: filepath.Join(t.TempDir(), "app.db"), runner: newFakeRunner()}
	var err error
	b.st, err = sqlite.Open(context.Background(), b.path, nil)
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { _ = b.st.Close() })
	if err := b.st.UpsertInstallation(context.Background(), store.Installation{ID: installationID, Account: "acme", AccountType: "Organization"}); err != nil {
		t.Fatalf("UpsertInstallation: %v", err)
	}
	b.start(t, b.runner, edit)
	return b
}

// start creates and starts a queue on b's database, replacing b.q.
func (b *testBundle) start(t *testing.T, r Runner, edit func(*Config)) {
	t.Helper()
	b.metrics = metrics.New()
	cfg := Config{
		DB: b.st.Jobs(), Store: b.st, Runner: r, Logger: testLogger(t), Metrics: b.metrics,
		PollInterval: 10 * time.Millisecond, ReconcileInterval: -1,
		RetryPolicy: &BackoffPolicy{Base: time.Millisecond, Max: 5 * time.Millisecond},
	}
	if edit != nil {
		edit(&cfg)
	}
	ctx := context.Background()
	q, err := New(ctx, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	events, cancel := q.client.Subscribe(river.EventKindJobCompleted, river.EventKindJobCancelled,
		river.EventKindJobFailed, river.EventKindJobSnoozed)
	if err := q.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		ctx, done := context.WithTimeout(context.Background(), waitFor)
		defer done()
		_ = q.Stop(ctx)
	})
	b.q, b.events = q, events
}

// mirror creates a push mirror of acme/<name>.
func (b *testBundle) mirror(t *testing.T, name string) *store.Mirror {
	t.Helper()
	m := &store.Mirror{InstallationID: installationID, GitHubRepoID: int64(len(name)*1000 + int(name[0])),
		A: store.Side{Owner: "acme", Name: name}, B: store.Side{Owner: "acme", Name: name},
		Direction: store.AToB, Prune: true, CreateMissing: true, Visibility: "source", ConfigSource: "settings"}
	if err := b.st.CreateMirror(context.Background(), m); err != nil {
		t.Fatalf("CreateMirror: %v", err)
	}
	return m
}

// get reads a mirror back.
func (b *testBundle) get(t *testing.T, id int64) *store.Mirror {
	t.Helper()
	m, err := b.st.GetMirror(context.Background(), id)
	if err != nil {
		t.Fatalf("GetMirror: %v", err)
	}
	return m
}

// runs lists a mirror's runs, oldest first.
func (b *testBundle) runs(t *testing.T, id int64) []*store.SyncRun {
	t.Helper()
	rs, err := b.st.ListRuns(context.Background(), id, 0)
	if err != nil {
		t.Fatalf("ListRuns: %v", err)
	}
	for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
		rs[i], rs[j] = rs[j], rs[i]
	}
	return rs
}

// request calls RequestSync.
func (b *testBundle) request(t *testing.T, id int64, trigger store.Trigger, resume bool) {
	t.Helper()
	if err := b.q.RequestSync(context.Background(), id, trigger, resume); err != nil {
		t.Fatalf("RequestSync: %v", err)
	}
}

// waitEvent returns the next job event of one of kinds, skipping others.
func (b *testBundle) waitEvent(t *testing.T, kinds ...river.EventKind) *river.Event {
	t.Helper()
	deadline := time.After(waitFor)
	for {
		select {
		case ev := <-b.events:
			for _, k := range kinds {
				if ev.Kind == k {
					return ev
				}
			}
		case <-deadline:
			t.Fatalf("no job event of kinds %v within %s", kinds, waitFor)
			return nil
		}
	}
}

// waitFinal waits until a sync job ends for good (completed or cancelled)
// and returns its event.
func (b *testBundle) waitFinal(t *testing.T) *river.Event {
	t.Helper()
	for {
		ev := b.waitEvent(t, river.EventKindJobCompleted, river.EventKindJobCancelled)
		if ev.Job.Kind == (SyncArgs{}).Kind() {
			return ev
		}
	}
}

// depth asserts the queue's depth.
func (b *testBundle) depth(t *testing.T, want int) {
	t.Helper()
	if got, err := b.q.Depth(context.Background()); err != nil || got != want {
		t.Errorf("Depth = %d, %v; want %d", got, err, want)
	}
}

// fakeRunner records calls; its behaviour is set per test.
type fakeRunner struct {
	started chan int64 // a mirror id per Sync call

	mu         sync.Mutex
	syncFn     func(ctx context.Context, m *store.Mirror) (*mirror.Result, error)
	applyFn    func(ctx context.Context, installationID, repoID int64, owner, name string) error
	calls      map[int64]int
	running    map[int64]int
	maxRunning int
}

func newFakeRunner() *fakeRunner {
	return &fakeRunner{started: make(chan int64, 1000), calls: map[int64]int{}, running: map[int64]int{}}
}

// onSync sets what Sync does.
func (r *fakeRunner) onSync(fn func(ctx context.Context, m *store.Mirror) (*mirror.Result, error)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.syncFn = fn
}

// Sync implements Runner.
func (r *fakeRunner) Sync(ctx context.Context, m *store.Mirror) (*mirror.Result, error) {
	r.mu.Lock()
	r.calls[m.ID]++
	r.running[m.ID]++
	r.maxRunning = max(r.maxRunning, r.running[m.ID])
	fn := r.syncFn
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.running[m.ID]--
		r.mu.Unlock()
	}()
	r.started <- m.ID
	if fn == nil {
		return okResult(), nil
	}
	return fn(ctx, m)
}

// ApplyConfig implements Runner.
func (r *fakeRunner) ApplyConfig(ctx context.Context, installationID, repoID int64, owner, name string) error {
	r.mu.Lock()
	fn := r.applyFn
	r.mu.Unlock()
	if fn == nil {
		return nil
	}
	return fn(ctx, installationID, repoID, owner, name)
}

func (r *fakeRunner) callsOf(id int64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[id]
}

// waitStarted waits for the next Sync call and returns its mirror id.
func (r *fakeRunner) waitStarted(t *testing.T) int64 {
	t.Helper()
	select {
	case id := <-r.started:
		return id
	case <-time.After(waitFor):
		t.Fatalf("no sync started within %s", waitFor)
		return 0
	}
}

// okResult is a sync that changed one branch.
func okResult() *mirror.Result {
	return &mirror.Result{Refs: []mirror.RefResult{{Ref: "refs/heads/main", Action: mirror.ActUpdate, Outcome: mirror.Updated, Source: "b", Target: "a"}}}
}

// noopResult is a sync that found nothing to do.
func noopResult() *mirror.Result {
	return &mirror.Result{NoOp: true, Refs: []mirror.RefResult{{Ref: "refs/heads/main", Outcome: mirror.Unchanged, Source: "a", Target: "a"}}}
}

// testLogger writes to the test log while the test runs, and nowhere after
// (River's goroutines may log during cleanup).
func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("JOBS_TEST_LOG") == "" {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	w := &testWriter{t: t}
	t.Cleanup(w.close) // registered first: runs last
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(string(p))
	}
	return len(p), nil
}

func (w *testWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = true
}

// waitUntil polls cond every 5 ms until it holds, and fails the test with
// never (what did not happen) after waitFor.
func waitUntil(t *testing.T, never string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(waitFor)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatal(never)
		}
	}
}

// runningSyncs lists the sync jobs River has running.
func (b *testBundle) runningSyncs(t *testing.T) []*rivertype.JobRow {
	t.Helper()
	res, err := b.q.client.JobList(context.Background(), river.NewJobListParams().Kinds(SyncArgs{}.Kind()).States(rivertype.JobStateRunning))
	if err != nil {
		t.Fatal(err)
	}
	return res.Jobs
}
