package server

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/config"
	"github.com/gitee-mirror/gitee-mirror/internal/store/sqlite"
)

// startQueueUI migrates River's tables into st and starts River UI on them.
func startQueueUI(t *testing.T, st *sqlite.Store, log *slog.Logger) http.Handler {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := st.Jobs().MigrateJobs(ctx, log); err != nil {
		t.Fatal(err)
	}
	ui, err := st.Jobs().QueueUI(QueuePrefix, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := ui.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return ui
}

func basic(password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte("operator:"+password))
}

// TestQueueUI: River UI is served under /admin/queue to whoever has the
// admin token, as a Basic password (what a browser asks for) or a Bearer
// token, and to nobody else.
func TestQueueUI(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *setupOptions) { o.queueUI = true })
	tests := map[string]struct {
		path, auth string
		code       int
		want       string
	}{
		"no credentials":    {QueuePrefix + "/", "", http.StatusUnauthorized, "admin token"},
		"wrong password":    {QueuePrefix + "/", basic("not-the-admin-token"), http.StatusUnauthorized, "admin token"},
		"wrong bearer":      {QueuePrefix + "/api/jobs?state=available", "Bearer not-the-admin-token", http.StatusUnauthorized, ""},
		"API without":       {QueuePrefix + "/api/jobs?state=available", "", http.StatusUnauthorized, ""},
		"page with Basic":   {QueuePrefix + "/", basic(adminToken), http.StatusOK, "<html"},
		"jobs with Basic":   {QueuePrefix + "/api/jobs?state=available", basic(adminToken), http.StatusOK, `"data"`},
		"jobs with Bearer":  {QueuePrefix + "/api/jobs?state=available", "Bearer " + adminToken, http.StatusOK, `"data"`},
		"queues with Basic": {QueuePrefix + "/api/queues", basic(adminToken), http.StatusOK, `"data"`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rec := b.do(t, http.MethodGet, tt.path, "", "Authorization", tt.auth)
			if rec.Code != tt.code || !strings.Contains(rec.Body.String(), tt.want) {
				t.Fatalf("GET %s = %d, want %d with %q:\n%.300s", tt.path, rec.Code, tt.code, tt.want, rec.Body.String())
			}
			if tt.code == http.StatusUnauthorized && !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Basic ") {
				t.Errorf("WWW-Authenticate = %q, want a Basic challenge a browser answers", rec.Header().Get("WWW-Authenticate"))
			}
		})
	}
}

// TestQueueUIWithoutAdminToken: no admin token, no queue pages.
func TestQueueUIWithoutAdminToken(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *setupOptions) { o.queueUI = true; delete(o.env, config.EnvAdminToken) })
	if rec := b.do(t, http.MethodGet, QueuePrefix+"/", "", "Authorization", basic("")); rec.Code != http.StatusForbidden {
		t.Errorf("GET %s without an admin token configured = %d, want 403", QueuePrefix, rec.Code)
	}
}
