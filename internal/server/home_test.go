package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/githubapp"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

func TestHomeUnconfigured(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *setupOptions) { o.env = map[string]string{} })
	rec := b.do(t, http.MethodGet, "/", "")
	wantCode(t, rec, http.StatusOK)
	wantBody(t, rec,
		"GITEE_MIRROR_APP_ID", "GITEE_MIRROR_PRIVATE_KEY_FILE", "GITEE_MIRROR_WEBHOOK_SECRET",
		"GITEE_MIRROR_SECRET_KEY", "GITEE_MIRROR_PUBLIC_URL",
		"https://github.com/settings/apps/new", "http://example.com/webhooks/github",
		"Generate a private key", "missing", "GITEE_MIRROR_ADMIN_TOKEN")
}

func TestHomeEnterpriseAndPublicURL(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *setupOptions) {
		o.env = map[string]string{"GITEE_MIRROR_GITHUB_URL": "https://ghe.example.com", "GITEE_MIRROR_PUBLIC_URL": "https://mirror.example.com"}
	})
	rec := b.do(t, http.MethodGet, "/", "")
	wantBody(t, rec, "https://ghe.example.com/settings/apps/new", "https://mirror.example.com/webhooks/github")
}

func TestHomeStatus(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := b.mirror(t)
	if err := b.store.SetPaused(t.Context(), m.ID, true, "test"); err != nil {
		t.Fatal(err)
	}
	rec := b.do(t, http.MethodGet, "/", "")
	wantCode(t, rec, http.StatusOK)
	wantBody(t, rec, "Status", "Mirrors</td><td>1", string(store.StatusPaused))
	if strings.Contains(rec.Body.String(), "Set up the GitHub App") {
		t.Errorf("set-up instructions shown with credentials configured")
	}
	b.noCanaries(t)
}

// TestHomeNamesEvents: the by-hand set-up on the front page subscribes to
// every event the App registers (githubapp.Events), installation events
// aside, which an App receives without asking.
func TestHomeNamesEvents(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *setupOptions) { o.env = map[string]string{} })
	rec := b.do(t, http.MethodGet, "/", "")
	for _, ev := range githubapp.Events {
		if strings.HasPrefix(ev, "installation") {
			continue
		}
		if want := "<em>" + strings.ToUpper(ev[:1]) + ev[1:] + "</em>"; !strings.Contains(rec.Body.String(), want) {
			t.Errorf("the front page does not ask to subscribe to %s (%s)", ev, want)
		}
	}
}
