package webhook_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	dto "github.com/prometheus/client_model/go"

	"github.com/gitee-mirror/gitee-mirror/internal/forges"
	"github.com/gitee-mirror/gitee-mirror/internal/logtest"
	"github.com/gitee-mirror/gitee-mirror/internal/metrics"
	"github.com/gitee-mirror/gitee-mirror/internal/secret"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/gitee-mirror/gitee-mirror/internal/store/sqlite"
	"github.com/gitee-mirror/gitee-mirror/internal/webhook"
)

const (
	testSecret = "webhook-secret-for-tests"
	testInst   = int64(42)
	testRepoID = int64(1001)
)

// fakeQueue records what intake asks of the queue.
type fakeQueue struct {
	mu      sync.Mutex
	syncs   []syncReq
	configs []configReq
	err     error // returned by every call while set
	// st, when set, records each sync request in the store first, as the
	// App's queue does (a write to the main database).
	st    store.Store
	hints map[int64]map[string]string // RequestSyncHinted's, per mirror
	// batches is the size of each RequestSyncs call.
	batches []int
}

type syncReq struct {
	MirrorID int64
	Trigger  store.Trigger
	Resume   bool
}

type configReq struct {
	InstallationID, RepoID int64
	Owner, Name            string
}

func (q *fakeQueue) RequestSync(_ context.Context, id int64, trigger store.Trigger, resume bool) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	if q.st != nil {
		if _, err := q.st.RequestSync(context.Background(), id, resume); err != nil {
			return err
		}
	}
	q.syncs = append(q.syncs, syncReq{id, trigger, resume})
	return nil
}

// RequestSyncHinted records the hints, then does what RequestSync does.
func (q *fakeQueue) RequestSyncHinted(ctx context.Context, id int64, trigger store.Trigger, resume bool, hints map[string]string) error {
	q.mu.Lock()
	if q.hints == nil {
		q.hints = map[int64]map[string]string{}
	}
	q.hints[id] = hints
	q.mu.Unlock()
	return q.RequestSync(ctx, id, trigger, resume)
}

// RequestSyncs makes webhook.SyncRequester: it records each request as
// RequestSyncHinted does, and the size of each call.
func (q *fakeQueue) RequestSyncs(_ context.Context, reqs []store.SyncRequest) ([]int64, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return nil, q.err
	}
	var ids []int64
	for _, r := range reqs {
		if q.st != nil {
			if _, err := q.st.RequestSync(context.Background(), r.MirrorID, r.Resume); errors.Is(err, store.ErrNotFound) {
				continue
			} else if err != nil {
				return nil, err
			}
		}
		if r.Hints != nil {
			if q.hints == nil {
				q.hints = map[int64]map[string]string{}
			}
			q.hints[r.MirrorID] = r.Hints
		}
		q.syncs = append(q.syncs, syncReq{r.MirrorID, r.Trigger, r.Resume})
		ids = append(ids, r.MirrorID)
	}
	q.batches = append(q.batches, len(reqs))
	return ids, nil
}

// Batches returns the number of requests of each RequestSyncs call.
func (q *fakeQueue) Batches() []int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]int(nil), q.batches...)
}

// Hints returns the last hints a mirror's sync was asked with.
func (q *fakeQueue) Hints(id int64) map[string]string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.hints[id]
}

func (q *fakeQueue) ApplyConfig(_ context.Context, inst, repo int64, owner, name string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	q.configs = append(q.configs, configReq{inst, repo, owner, name})
	return nil
}

func (q *fakeQueue) setErr(err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.err = err
}

func (q *fakeQueue) Syncs() []syncReq {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]syncReq(nil), q.syncs...)
}

func (q *fakeQueue) Configs() []configReq {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]configReq(nil), q.configs...)
}

// syncBuffer is the shared concurrent-safe log sink.
type syncBuffer = logtest.Buffer

type testBundle struct {
	store   *sqlite.Store
	dbPath  string
	giteeIn *webhook.Gitee
	inbox   *sqlite.Inbox
	fwd     *webhook.Forwarder
	queue   *fakeQueue
	syncs   webhook.SyncRequester // the forwarder's, when it requests syncs together
	metrics *metrics.Metrics
	logs    *syncBuffer
	e       *echo.Echo
	now     time.Time
	// drainErr is the Forwarder's error after the last GitHub delivery.
	drainErr error
}

type setupOptions struct {
	secret    string
	maxBytes  int64
	wrapInbox func(store.Inbox) store.Inbox // wraps the real inbox when set
	busy      time.Duration                 // the store's busy timeout; 0: its default
	writes    bool                          // the queue writes each request to the store
	batch     int                           // the forwarder's batch; 0: its default
	// together: the forwarder requests its tasks' syncs together
	// (ForwarderOptions.Syncs), as the App's does.
	together bool
}

// setup builds both intakes over a real SQLite store in a temp dir and a
// fake queue.
func setup(t *testing.T, opts ...func(*setupOptions)) *testBundle {
	t.Helper()
	o := setupOptions{secret: testSecret}
	for _, f := range opts {
		f(&o)
	}
	key := make([]byte, secret.KeySize)
	_, _ = rand.Read(key)
	box, err := secret.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	var stOpts []sqlite.Option
	if o.busy > 0 {
		stOpts = append(stOpts, sqlite.WithBusyTimeout(o.busy))
	}
	dbPath := filepath.Join(t.TempDir(), "test.db")
	st, err := sqlite.Open(context.Background(), dbPath, box, stOpts...)
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	inbox, err := sqlite.OpenInbox(context.Background(), filepath.Join(t.TempDir(), "test.inbox.db"))
	if err != nil {
		t.Fatalf("sqlite.OpenInbox: %v", err)
	}
	t.Cleanup(func() { _ = inbox.Close() })
	b := &testBundle{
		store: st, dbPath: dbPath, inbox: inbox, queue: &fakeQueue{}, metrics: metrics.New(), logs: &syncBuffer{},
		e: echo.New(), now: time.Now(),
	}
	if o.writes {
		b.queue.st = st
	}
	var in store.Inbox = inbox
	if o.wrapInbox != nil {
		in = o.wrapInbox(inbox)
	}
	log := slog.New(slog.NewJSONHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fo := webhook.ForwarderOptions{
		Inbox: inbox, Handlers: webhook.ForwardHandlers(st, b.queue), Metrics: b.metrics, Logger: log,
		MaxAttempts: testMaxAttempts, RetryBase: time.Millisecond, Batch: o.batch,
	}
	if o.together {
		b.syncs = b.queue
		fo.Syncs = b.queue
	}
	b.fwd = webhook.NewForwarder(fo)
	gh := webhook.NewGitHub(webhook.GitHubOptions{
		Secret: func() []byte { return []byte(o.secret) }, MaxBytes: o.maxBytes, Inbox: in, Metrics: b.metrics, Logger: log,
		Handlers: webhook.DefaultHandlers(st, b.queue),
	})
	gt := webhook.NewGitee(webhook.GiteeOptions{
		MaxBytes: o.maxBytes, Deliveries: forges.Deliveries(), Store: st, Inbox: in, Metrics: b.metrics, Logger: log,
		Now: func() time.Time { return b.now },
	})
	b.e.POST("/webhooks/github", gh.Handle)
	b.e.POST("/webhooks/gitee/:hookID", gt.Handle)
	b.giteeIn = gt
	return b
}

// github sends a delivery signed with testSecret.
func (b *testBundle) github(t *testing.T, event, delivery string, payload any) *httptest.ResponseRecorder {
	t.Helper()
	body := toJSON(t, payload)
	return b.githubRaw(t, event, delivery, body, webhook.Sign([]byte(testSecret), body))
}

// githubRaw sends a delivery with the given signature header ("" for none).
func (b *testBundle) githubRaw(t *testing.T, event, delivery string, body []byte, sig string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/webhooks/github", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if event != "" {
		req.Header.Set(webhook.HeaderGitHubEvent, event)
	}
	if delivery != "" {
		req.Header.Set(webhook.HeaderGitHubDelivery, delivery)
	}
	if sig != "" {
		req.Header.Set(webhook.HeaderGitHubSignature, sig)
	}
	return b.serveGitHub(req)
}

// serveGitHub serves a delivery (GitHub's or Gitee's), then lets the Forwarder do the
// work it was accepted for (drainErr keeps its error), as the App's
// forwarder does right after.
func (b *testBundle) serveGitHub(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	b.e.ServeHTTP(rec, req)
	b.drainErr = b.fwd.Drain(context.Background())
	return rec
}

// pending is what the inbox still holds, given up or not.
func (b *testBundle) pending(t *testing.T) []*store.Delivery {
	t.Helper()
	ds, err := b.inbox.Pending(context.Background(), 100, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// wasAccepted reports whether the inbox knows the GitHub delivery id.
func (b *testBundle) wasAccepted(t *testing.T, id string) bool {
	t.Helper()
	first, err := b.inbox.Accept(context.Background(), &store.Delivery{Source: webhook.SourceGitHub, ID: id, Event: "probe"})
	if err != nil {
		t.Fatal(err)
	}
	return !first
}

func toJSON(t *testing.T, v any) []byte {
	t.Helper()
	if b, ok := v.([]byte); ok {
		return b
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// installation records an installation.
func (b *testBundle) installation(t *testing.T, id int64) {
	t.Helper()
	if err := b.store.UpsertInstallation(context.Background(), store.Installation{ID: id, Account: "octo-org", AccountType: "Organization"}); err != nil {
		t.Fatal(err)
	}
}

// mirror creates a mirror of repository repoID (octo-org/repo) in testInst.
func (b *testBundle) mirror(t *testing.T, repoID int64, target string, d store.Direction, hookSecret string) *store.Mirror {
	t.Helper()
	b.installation(t, testInst)
	m := &store.Mirror{
		InstallationID: testInst, GitHubRepoID: repoID, A: store.Side{Owner: "octo-org", Name: "repo"},
		B: store.Side{Owner: "gitee-org", Name: target}, Direction: d, HookSecret: hookSecret,
	}
	if err := b.store.CreateMirror(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	return m
}

func (b *testBundle) getMirror(t *testing.T, id int64) *store.Mirror {
	t.Helper()
	m, err := b.store.GetMirror(context.Background(), id)
	if err != nil {
		t.Fatalf("GetMirror(%d): %v", id, err)
	}
	return m
}

// counted returns the webhook counter for the labels.
func (b *testBundle) counted(t *testing.T, source, event, verdict string) float64 {
	t.Helper()
	var m dto.Metric
	if err := b.metrics.WebhooksReceived.WithLabelValues(source, event, verdict).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func wantCode(t *testing.T, rec *httptest.ResponseRecorder, want int) {
	t.Helper()
	if rec.Code != want {
		t.Fatalf("status = %d, want %d; body %s", rec.Code, want, rec.Body)
	}
}

func wantBody(t *testing.T, rec *httptest.ResponseRecorder, want string) {
	t.Helper()
	if !strings.Contains(rec.Body.String(), want) {
		t.Errorf("body %q does not contain %q", rec.Body, want)
	}
}

// testMaxAttempts is the Forwarder's MaxAttempts in these tests.
const testMaxAttempts = 3

// failingInbox fails Accept.
type failingInbox struct {
	store.Inbox
}

func (failingInbox) Accept(context.Context, *store.Delivery) (bool, error) {
	return false, errors.New("disk I/O error")
}
