package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/forges"
	"github.com/gitee-mirror/gitee-mirror/internal/logtest"

	"github.com/gitee-mirror/gitee-mirror/internal/config"
	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/metrics"
	"github.com/gitee-mirror/gitee-mirror/internal/secret"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/gitee-mirror/gitee-mirror/internal/store/sqlite"
)

const (
	adminToken  = "admin-token-canary-0123456789"
	giteeToken  = "gitee-token-canary-abcdef"
	giteeLogin  = "gitee-bot"
	testSecret  = "webhook-secret"
	testInst    = int64(42)
	testPEMText = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----"
)

type fakeQueue struct {
	mu    sync.Mutex
	syncs []int64
	err   error
}

func (q *fakeQueue) RequestSync(_ context.Context, id int64, _ store.Trigger, _ bool) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	q.syncs = append(q.syncs, id)
	return nil
}

func (q *fakeQueue) ApplyConfig(context.Context, int64, int64, string, string) error { return nil }

func (q *fakeQueue) Syncs() []int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]int64(nil), q.syncs...)
}

// syncBuffer is the shared concurrent-safe log sink.
type syncBuffer = logtest.Buffer

type testBundle struct {
	srv   *Server
	store *sqlite.Store
	inbox *sqlite.Inbox
	wakes atomic.Int64
	queue *fakeQueue
	logs  *syncBuffer
	// responses collects every response body, to look for canaries;
	// parallel subtests write it, under respMu.
	respMu    sync.Mutex
	responses strings.Builder
}

type setupOptions struct {
	env       map[string]string
	noKey     bool
	giteeUser func(ctx context.Context, token string) (string, error)
	wrap      func(store.Store) store.Store
	queueUI   bool // serve River UI on the store's job tables
}

// fakeGiteeUser accepts giteeToken only.
func fakeGiteeUser(_ context.Context, token string) (string, error) {
	if token == giteeToken {
		return giteeLogin, nil
	}
	return "", failure.New(failure.Auth, "GET /user: the Gitee token is invalid or expired")
}

// setup builds a server over a real SQLite store. By default the App is
// configured, with an admin token and an encryption key.
func setup(t *testing.T, opts ...func(*setupOptions)) *testBundle {
	t.Helper()
	key := make([]byte, secret.KeySize)
	_, _ = rand.Read(key)
	o := setupOptions{
		env: map[string]string{
			config.EnvAppID:         "7",
			config.EnvPrivateKey:    testPEMText,
			config.EnvWebhookSecret: testSecret,
			config.EnvAdminToken:    adminToken,
			config.EnvSecretKey:     base64.StdEncoding.EncodeToString(key),
		},
		giteeUser: fakeGiteeUser,
	}
	for _, f := range opts {
		f(&o)
	}
	cfg, err := config.Load(func(k string) string { return o.env[k] })
	if err != nil {
		t.Fatalf("config.Load: %v", err)
	}
	var box *secret.Box
	if k := cfg.SecretKeyBytes(); k != nil && !o.noKey {
		if box, err = secret.NewBox(k); err != nil {
			t.Fatal(err)
		}
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"), box)
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	b := &testBundle{store: st, queue: &fakeQueue{}, logs: &syncBuffer{}}
	var s store.Store = st
	if o.wrap != nil {
		s = o.wrap(st)
	}
	b.inbox = openInbox(t)
	log := slog.New(slog.NewJSONHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var queueUI http.Handler
	if o.queueUI {
		queueUI = startQueueUI(t, st, log)
	}
	b.srv, err = New(Options{
		Config: cfg, Store: s, Queue: b.queue, Inbox: b.inbox, Wake: func() { b.wakes.Add(1) }, Metrics: metrics.New(),
		Logger:    log,
		GiteeUser: o.giteeUser, Deliveries: forges.Deliveries(),
		Sites:   forges.New(forges.Config{GiteeAPIURL: cfg.GiteeAPIURL, GiteeGitURL: cfg.GiteeURL, GiteeAttempts: 2}),
		QueueUI: queueUI,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// openInbox opens a webhook inbox in a temp dir.
func openInbox(t *testing.T) *sqlite.Inbox {
	t.Helper()
	in, err := sqlite.OpenInbox(context.Background(), filepath.Join(t.TempDir(), "test.inbox.db"))
	if err != nil {
		t.Fatalf("sqlite.OpenInbox: %v", err)
	}
	t.Cleanup(func() { _ = in.Close() })
	return in
}

// do sends a request; headers come in pairs.
func (b *testBundle) do(t *testing.T, method, path, body string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	b.srv.Handler().ServeHTTP(rec, req)
	b.respMu.Lock()
	defer b.respMu.Unlock()
	b.responses.WriteString(rec.Body.String())
	for k, v := range rec.Header() {
		b.responses.WriteString(k + ": " + strings.Join(v, ",") + "\n")
	}
	return rec
}

// admin sends an authenticated admin request.
func (b *testBundle) admin(t *testing.T, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	return b.do(t, method, path, body, "Authorization", "Bearer "+adminToken)
}

func (b *testBundle) mirror(t *testing.T) *store.Mirror {
	t.Helper()
	ctx := context.Background()
	if err := b.store.UpsertInstallation(ctx, store.Installation{ID: testInst, Account: "octo-org", AccountType: "Organization"}); err != nil {
		t.Fatal(err)
	}
	m := &store.Mirror{InstallationID: testInst, GitHubRepoID: 1001, A: store.Side{Owner: "octo-org", Name: "repo"},
		B: store.Side{Owner: "gitee-org", Name: "repo"}, Direction: store.AToB}
	if err := b.store.CreateMirror(ctx, m); err != nil {
		t.Fatal(err)
	}
	return m
}

func wantCode(t *testing.T, rec *httptest.ResponseRecorder, want int) {
	t.Helper()
	if rec.Code != want {
		t.Fatalf("status = %d, want %d; body %s", rec.Code, want, rec.Body)
	}
}

func wantBody(t *testing.T, rec *httptest.ResponseRecorder, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(rec.Body.String(), w) {
			t.Errorf("body does not contain %q:\n%s", w, rec.Body)
		}
	}
}

// noCanaries fails when a secret shows in any response or log line.
func (b *testBundle) noCanaries(t *testing.T) {
	t.Helper()
	for _, c := range []string{giteeToken, adminToken, testSecret} {
		if strings.Contains(b.responses.String(), c) {
			t.Errorf("a response contains %q", c)
		}
		if strings.Contains(b.logs.String(), c) {
			t.Errorf("the logs contain %q", c)
		}
	}
}
