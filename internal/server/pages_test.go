package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/config"
	"github.com/gitee-mirror/gitee-mirror/internal/forges"
	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/metrics"
	"github.com/gitee-mirror/gitee-mirror/internal/store/sqlite"
)

func TestSettingsPagesMountedAndLiveRegistration(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	pages := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		w.Write([]byte("pages " + r.Method + " " + r.URL.Path))
	})
	app := &liveApp{}
	srv, err := New(Options{Config: cfg, Store: st, Queue: &fakeQueue{}, Inbox: openInbox(t), Metrics: metrics.New(), Settings: pages,
		GiteeUser: fakeGiteeUser, Deliveries: forges.Deliveries(), App: app})
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, path, body string, hdr ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		return rec
	}
	if rec := do(http.MethodPost, "/settings/installations/1/gitee", ""); rec.Code != http.StatusTeapot || rec.Body.String() != "pages POST /settings/installations/1/gitee" {
		t.Errorf("settings route: %d %s", rec.Code, rec.Body)
	}
	if rec := do(http.MethodGet, "/", ""); !strings.Contains(rec.Body.String(), `href="/settings/register"`) ||
		!strings.Contains(rec.Body.String(), "needs <code>GITEE_MIRROR_SECRET_KEY</code> first") {
		t.Errorf("front page without App or key lacks the registration link or why it cannot work yet:\n%s", rec.Body)
	}
	ping := `{"zen":"hi","hook_id":1}`
	const secret = "registered-secret"
	signed := []string{"X-GitHub-Event", "ping", "X-GitHub-Delivery", "d-1", "Content-Type", "application/json",
		"X-Hub-Signature-256", forgetest.SignGitHub(secret, []byte(ping))}
	if rec := do(http.MethodPost, "/webhooks/github", ping, signed...); rec.Code != http.StatusUnauthorized {
		t.Errorf("delivery before registration: %d", rec.Code)
	}
	app.register([]byte(secret))
	if rec := do(http.MethodPost, "/webhooks/github", ping, signed...); rec.Code/100 != 2 {
		t.Errorf("delivery after registration: %d %s", rec.Code, rec.Body)
	}
	if rec := do(http.MethodGet, "/", ""); strings.Contains(rec.Body.String(), `href="/settings/register"`) || !strings.Contains(rec.Body.String(), `href="/settings/"`) {
		t.Errorf("front page after registration:\n%s", rec.Body)
	}
}

// liveApp is an AppState a registration changes while the server runs, as
// the App's own does.
type liveApp struct {
	mu     sync.Mutex
	secret []byte
}

func (a *liveApp) register(secret []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.secret = secret
}

func (a *liveApp) WebhookSecret() []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.secret
}

func (a *liveApp) Configured() bool { return a.WebhookSecret() != nil }
