package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/gitee-mirror/gitee-mirror/internal/webhook"
)

func TestHealth(t *testing.T) {
	t.Parallel()
	b := setup(t)
	wantCode(t, b.do(t, http.MethodGet, "/healthz", ""), http.StatusOK)
	wantCode(t, b.do(t, http.MethodGet, "/readyz", ""), http.StatusOK)
}

// downStore's database does not answer.
type downStore struct{ store.Store }

func (downStore) Ping(context.Context) error {
	return errors.New("sqlite: disk I/O error at /secret/path")
}

func (downStore) ListMirrors(context.Context, store.MirrorFilter) ([]*store.Mirror, error) {
	return nil, errors.New("sqlite: disk I/O error at /secret/path")
}

func TestReadyzDown(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *setupOptions) { o.wrap = func(s store.Store) store.Store { return downStore{s} } })
	rec := b.do(t, http.MethodGet, "/readyz", "")
	wantCode(t, rec, http.StatusServiceUnavailable)
	if strings.Contains(rec.Body.String(), "/secret/path") {
		t.Errorf("readyz leaks the error: %s", rec.Body)
	}
	wantCode(t, b.do(t, http.MethodGet, "/healthz", ""), http.StatusOK)
	// The front page still renders.
	rec = b.do(t, http.MethodGet, "/", "")
	wantCode(t, rec, http.StatusOK)
	wantBody(t, rec, "could not be read")
}

func TestReadyzInboxDown(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if err := b.inbox.Close(); err != nil {
		t.Fatal(err)
	}
	rec := b.do(t, http.MethodGet, "/readyz", "")
	wantCode(t, rec, http.StatusServiceUnavailable)
	wantBody(t, rec, "webhook inbox")
	wantCode(t, b.do(t, http.MethodGet, "/healthz", ""), http.StatusOK)
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	b := setup(t)
	wantCode(t, b.do(t, http.MethodPost, "/webhooks/github", `{}`, webhook.HeaderGitHubEvent, "push"), http.StatusUnauthorized)
	rec := b.do(t, http.MethodGet, "/metrics", "")
	wantCode(t, rec, http.StatusOK)
	wantBody(t, rec, `gitee_mirror_webhooks_received_total{event="unknown",source="github",verdict="bad-signature"} 1`,
		"gitee_mirror_queue_depth", "go_goroutines")
}

func TestWebhookRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := b.mirror(t)
	body := `{"ref":"refs/heads/x","repository":{"id":1001,"full_name":"octo-org/repo","default_branch":"main"},"installation":{"id":42}}`
	rec := b.do(t, http.MethodPost, "/webhooks/github", body,
		webhook.HeaderGitHubEvent, "push", webhook.HeaderGitHubDelivery, "d-1",
		webhook.HeaderGitHubSignature, webhook.Sign([]byte(testSecret), []byte(body)))
	wantCode(t, rec, http.StatusOK)
	// Accepted into the inbox (the push's record, not its payload), and
	// the forwarder woken to do its work.
	ds, err := b.inbox.Pending(t.Context(), 10, 10)
	if err != nil || len(ds) != 1 || ds[0].ID != "d-1" || ds[0].Event != "push" ||
		!strings.Contains(string(ds[0].Payload), `"full_name":"octo-org/repo"`) || !strings.Contains(string(ds[0].Payload), `"gitee_mirror_config":false`) {
		t.Errorf("inbox = %+v, %v", ds, err)
	}
	if got := b.wakes.Load(); got != 1 {
		t.Errorf("forwarder woken %d times, want 1", got)
	}
	wantCode(t, b.do(t, http.MethodPost, "/webhooks/gitee/nope", `{}`, "X-Gitee-Token", "x"), http.StatusNotFound)
	wantCode(t, b.do(t, http.MethodPost, "/webhooks/gitee/"+m.HookID, `{}`, "X-Gitee-Token", "x"), http.StatusUnauthorized)
	b.noCanaries(t)
}

func TestWebhookBodyCapFromConfig(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *setupOptions) { o.env["GITEE_MIRROR_WEBHOOK_MAX_BYTES"] = "64KiB" })
	rec := b.do(t, http.MethodPost, "/webhooks/github", strings.Repeat(" ", 64<<10+1), webhook.HeaderGitHubEvent, "push")
	wantCode(t, rec, http.StatusRequestEntityTooLarge)
}

func TestErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.srv.echo.GET("/boom", func(echo.Context) error { panic("secret internals /etc/passwd") })
	b.srv.echo.GET("/fail", func(echo.Context) error { return errors.New("sql: connection refused at 10.0.0.5") })

	rec := b.do(t, http.MethodGet, "/nope", "")
	wantCode(t, rec, http.StatusNotFound)
	wantBody(t, rec, `"error":"Not Found"`, `"request_id":"`)

	rec = b.do(t, http.MethodGet, "/nope", "", "Accept", "text/html,application/xhtml+xml")
	wantCode(t, rec, http.StatusNotFound)
	wantBody(t, rec, "<h1>404 Not Found</h1>")

	for _, path := range []string{"/boom", "/fail"} {
		rec = b.do(t, http.MethodGet, path, "")
		wantCode(t, rec, http.StatusInternalServerError)
		wantBody(t, rec, `"error":"internal error"`)
		if s := rec.Body.String(); strings.Contains(s, "passwd") || strings.Contains(s, "10.0.0.5") {
			t.Errorf("%s leaks internals: %s", path, s)
		}
	}
	if !strings.Contains(b.logs.String(), "10.0.0.5") || !strings.Contains(b.logs.String(), "passwd") {
		t.Errorf("internal errors are not logged:\n%s", b.logs)
	}
	wantCode(t, b.do(t, http.MethodPost, "/healthz", ""), http.StatusMethodNotAllowed)
}

func TestRequestLog(t *testing.T) {
	t.Parallel()
	b := setup(t)
	wantCode(t, b.do(t, http.MethodGet, "/?access_token=query-canary", "", "Authorization", "Bearer header-canary", "Cookie", "s=cookie-canary"), http.StatusOK)
	logs := b.logs.String()
	if !strings.Contains(logs, `"path":"/"`) || !strings.Contains(logs, `"status":200`) || !strings.Contains(logs, `"request_id":"`) {
		t.Errorf("request not logged:\n%s", logs)
	}
	for _, c := range []string{"query-canary", "header-canary", "cookie-canary"} {
		if strings.Contains(logs, c) {
			t.Errorf("the request log contains %s:\n%s", c, logs)
		}
	}
}
