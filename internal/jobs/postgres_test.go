package jobs

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/metrics"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/pgtest"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/gitee-mirror/gitee-mirror/internal/store/postgres"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// seenRunner is a Runner that remembers, per mirror, the newest request
// sequence a sync started from, and counts syncs of one mirror running at
// once, whichever replica runs them.
type seenRunner struct {
	mu         sync.Mutex
	seen       map[int64]int64
	running    map[int64]int
	maxRunning int
}

func (r *seenRunner) Sync(_ context.Context, m *store.Mirror) (*mirror.Result, error) {
	r.mu.Lock()
	r.running[m.ID]++
	r.maxRunning = max(r.maxRunning, r.running[m.ID])
	r.seen[m.ID] = max(r.seen[m.ID], m.RequestSeq)
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.running[m.ID]--
		r.mu.Unlock()
	}()
	return okResult(), nil
}

func (r *seenRunner) ApplyConfig(context.Context, int64, int64, string, string) error { return nil }

// TestReplicasOnPostgres runs three queues, each with its own connections,
// on one Postgres database, as three App replicas do, and sends sync
// requests for the same mirrors to all of them at once: every request is
// served by a sync that started after it (none is lost as a duplicate of a
// job that was finishing on another replica), and no mirror is synced by
// two replicas at once.
func TestReplicasOnPostgres(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	runner := &seenRunner{seen: map[int64]int64{}, running: map[int64]int{}}
	var stores []*postgres.Store
	var queues []*Queue
	for i := range 3 {
		st, err := postgres.Open(ctx, db.URL(), nil)
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		t.Cleanup(func() { _ = st.Close() })
		q, err := New(ctx, Config{
			DB: st.Jobs(), Store: st, Runner: runner, Logger: testLogger(t), Metrics: metrics.New(),
			PollInterval: 10 * time.Millisecond, ReconcileInterval: -1, Workers: 2,
			RetryPolicy: &BackoffPolicy{Base: time.Millisecond, Max: 5 * time.Millisecond},
		})
		if err != nil {
			t.Fatalf("replica %d: New: %v", i, err)
		}
		if err := q.Start(ctx); err != nil {
			t.Fatalf("replica %d: Start: %v", i, err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), waitFor)
			defer cancel()
			_ = q.Stop(ctx)
		})
		stores, queues = append(stores, st), append(queues, q)
	}
	st := stores[0]
	if err := st.UpsertInstallation(ctx, store.Installation{ID: installationID, Account: "acme", AccountType: "Organization"}); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i := range 4 {
		m := &store.Mirror{InstallationID: installationID, GitHubRepoID: int64(100 + i), A: store.Side{Owner: "acme", Name: fmt.Sprint("r", i)}, B: store.Side{Owner: "acme", Name: fmt.Sprint("r", i)}, Direction: store.AToB, ConfigSource: "settings"}
		if err := st.CreateMirror(ctx, m); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}

	var wg sync.WaitGroup
	for r, q := range queues {
		wg.Go(func() {
			for i := range 30 {
				if err := q.RequestSync(ctx, ids[(i+r)%len(ids)], store.TriggerPush, false); err != nil {
					t.Errorf("replica %d: RequestSync: %v", r, err)
				}
			}
		})
	}
	wg.Wait()

	deadline := time.Now().Add(waitFor)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for _, id := range ids {
		for {
			m, err := st.GetMirror(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			runner.mu.Lock()
			seen := runner.seen[id]
			runner.mu.Unlock()
			if seen == m.RequestSeq {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("mirror %d: the last sync started from request %d of %d: a request was lost", id, seen, m.RequestSeq)
			}
			<-tick.C
		}
	}
	runner.mu.Lock()
	defer runner.mu.Unlock()
	if runner.maxRunning != 1 {
		t.Errorf("%d syncs of one mirror ran at once across the replicas, want 1", runner.maxRunning)
	}
}

// interceptStore calls hook on the first GetMirror after arm: the sync
// worker's check for new requests, made under the mirror's lock.
type interceptStore struct {
	store.Store
	armed chan struct{}
	fired atomic.Bool
	hook  func()
}

func (s *interceptStore) GetMirror(ctx context.Context, id int64) (*store.Mirror, error) {
	m, err := s.Store.GetMirror(ctx, id)
	select {
	case <-s.armed:
		if s.fired.CompareAndSwap(false, true) {
			s.hook() // m was read before: the hook's request is newer
		}
	default:
	}
	return m, err
}

// armRunner is seenRunner that arms the interceptor when a sync ends.
type armRunner struct {
	*seenRunner
	once sync.Once
	arm  chan struct{}
}

func (r *armRunner) Sync(ctx context.Context, m *store.Mirror) (*mirror.Result, error) {
	res, err := r.seenRunner.Sync(ctx, m)
	r.once.Do(func() { close(r.arm) })
	return res, err
}

// TestRequestWhileAnotherReplicaSettles sends a request through replica B
// at the worst moment: replica A has checked for new requests and is about
// to mark its job done. The lock in the database makes B's request wait
// until A's job is done, so that it enqueues a new job instead of being
// dropped as a duplicate of A's. (With a lock in each process's memory the
// request is lost: the mirror's last sync never sees it.)
func TestRequestWhileAnotherReplicaSettles(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		request func(ctx context.Context, q *Queue, id int64) error
	}{
		{"RequestSync", func(ctx context.Context, q *Queue, id int64) error {
			return q.RequestSync(ctx, id, store.TriggerPush, false)
		}},
		// The forwarder's batch takes the mirrors' locks together.
		{"RequestSyncs", func(ctx context.Context, q *Queue, id int64) error {
			_, err := q.RequestSyncs(ctx, []store.SyncRequest{{MirrorID: id, Trigger: store.TriggerPush}})
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			requestWhileAnotherReplicaSettles(t, c.request)
		})
	}
}

func requestWhileAnotherReplicaSettles(t *testing.T, request func(ctx context.Context, q *Queue, id int64) error) {
	db := pgtest.New(t)
	ctx := context.Background()
	open := func() *postgres.Store {
		st, err := postgres.Open(ctx, db.URL(), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	}
	stA, stB := open(), open()
	if err := stA.UpsertInstallation(ctx, store.Installation{ID: installationID, Account: "acme"}); err != nil {
		t.Fatal(err)
	}
	m := &store.Mirror{InstallationID: installationID, GitHubRepoID: 1, A: store.Side{Owner: "acme", Name: "r"},
		B: store.Side{Owner: "acme", Name: "r"}, Direction: store.AToB, ConfigSource: "settings"}
	if err := stA.CreateMirror(ctx, m); err != nil {
		t.Fatal(err)
	}
	cfg := func(st store.Store, db store.JobDB, r Runner) Config {
		return Config{DB: db, Store: st, Runner: r, Logger: testLogger(t), PollInterval: 10 * time.Millisecond,
			ReconcileInterval: -1, RetryPolicy: &BackoffPolicy{Base: time.Millisecond, Max: 5 * time.Millisecond}}
	}
	// B only takes requests: it works no jobs, so A runs them all.
	qB, err := New(ctx, cfg(stB, stB.Jobs(), newFakeRunner()))
	if err != nil {
		t.Fatal(err)
	}
	runner := &armRunner{seenRunner: &seenRunner{seen: map[int64]int64{}, running: map[int64]int{}}, arm: make(chan struct{})}
	waiting := func() bool {
		var n int
		err := stA.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`).Scan(&n)
		return err == nil && n > 0
	}
	intercept := &interceptStore{Store: stA, armed: runner.arm}
	intercept.hook = func() {
		done := make(chan error, 1)
		go func() { done <- request(ctx, qB, m.ID) }()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("RequestSync on B: %v", err)
				}
				return
			case <-tick.C:
				if waiting() {
					return // B waits for A's lock
				}
			}
		}
	}
	qA, err := New(ctx, cfg(intercept, stA.Jobs(), runner))
	if err != nil {
		t.Fatal(err)
	}
	if err := qA.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		_ = qA.Stop(ctx)
	})
	if err := qA.RequestSync(ctx, m.ID, store.TriggerPush, false); err != nil {
		t.Fatal(err)
	}

	deadline := time.Now().Add(waitFor)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		cur, err := stA.GetMirror(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		runner.mu.Lock()
		seen := runner.seen[m.ID]
		runner.mu.Unlock()
		if cur.RequestSeq == 2 && seen == 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("request %d of the mirror was never synced (last sync started from %d): lost while replica A settled", cur.RequestSeq, seen)
		}
		<-tick.C
	}
}
