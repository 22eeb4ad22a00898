package webhook_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/gitee"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

const hookSecret = "gitee-hook-secret"

const giteePush = `{"ref":"refs/heads/main","before":"1111111111111111111111111111111111111111",` +
	`"after":"2222222222222222222222222222222222222222","total_commits_count":1,` +
	`"repository":{"full_name":"gitee-org/repo","path_with_namespace":"gitee-org/repo"},"hook_name":"push_hooks"}`

// gitee sends a delivery to a mirror's hook URL with the given headers.
func (b *testBundle) gitee(t *testing.T, hookID string, h map[string]string, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/webhooks/gitee/"+hookID, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "git-oschina-hook")
	for k, v := range h {
		req.Header.Set(k, v)
	}
	return b.serveGitHub(req) // the same path: the inbox, then the Forwarder
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func TestGiteeDeliveries(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	sig := gitee.SignWebhook(hookSecret, ms(now))
	tests := map[string]struct {
		dir      store.Direction
		headers  map[string]string
		want     int
		wantSync bool
		wantBody string
	}{
		"password mode": {store.BToA, map[string]string{"X-Gitee-Token": hookSecret, "X-Gitee-Event": "Push Hook"},
			http.StatusOK, true, "accepted"},
		"signature mode": {store.BToA, map[string]string{"X-Gitee-Token": sig, "X-Gitee-Timestamp": ms(now), "X-Gitee-Event": "Push Hook"},
			http.StatusOK, true, "accepted"},
		"signature mode, URL-encoded": {store.BToA, map[string]string{"X-Gitee-Token": url.QueryEscape(sig), "X-Gitee-Timestamp": ms(now), "X-Gitee-Event": "Tag Push Hook"},
			http.StatusOK, true, "accepted"},
		"tag push": {store.BToA, map[string]string{"X-Gitee-Token": hookSecret, "X-Gitee-Event": "Tag Push Hook"},
			http.StatusOK, true, "accepted"},
		"stale timestamp": {store.BToA, map[string]string{
			"X-Gitee-Token":     gitee.SignWebhook(hookSecret, ms(now.Add(-10*time.Minute))),
			"X-Gitee-Timestamp": ms(now.Add(-10 * time.Minute)), "X-Gitee-Event": "Push Hook"},
			http.StatusUnauthorized, false, ""},
		"future timestamp": {store.BToA, map[string]string{
			"X-Gitee-Token":     gitee.SignWebhook(hookSecret, ms(now.Add(time.Hour))),
			"X-Gitee-Timestamp": ms(now.Add(time.Hour)), "X-Gitee-Event": "Push Hook"},
			http.StatusUnauthorized, false, ""},
		"wrong password": {store.BToA, map[string]string{"X-Gitee-Token": "guess", "X-Gitee-Event": "Push Hook"},
			http.StatusUnauthorized, false, ""},
		"wrong signature": {store.BToA, map[string]string{"X-Gitee-Token": gitee.SignWebhook("other", ms(now)), "X-Gitee-Timestamp": ms(now), "X-Gitee-Event": "Push Hook"},
			http.StatusUnauthorized, false, ""},
		"no token": {store.BToA, map[string]string{"X-Gitee-Event": "Push Hook"},
			http.StatusUnauthorized, false, ""},
		"ping": {store.BToA, map[string]string{"X-Gitee-Token": hookSecret, "X-Gitee-Event": "Push Hook", "X-Gitee-Ping": "true"},
			http.StatusOK, false, "pong"},
		"unverified ping": {store.BToA, map[string]string{"X-Gitee-Token": "guess", "X-Gitee-Ping": "true"},
			http.StatusUnauthorized, false, ""},
		"other event": {store.BToA, map[string]string{"X-Gitee-Token": hookSecret, "X-Gitee-Event": "Issue Hook"},
			http.StatusAccepted, false, "ignored"},
		"push-direction mirror": {store.AToB, map[string]string{"X-Gitee-Token": hookSecret, "X-Gitee-Event": "Push Hook"},
			http.StatusAccepted, false, "ignored"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.now = now
			m := b.mirror(t, testRepoID, "repo", tc.dir, hookSecret)
			rec := b.gitee(t, m.HookID, tc.headers, giteePush)
			wantCode(t, rec, tc.want)
			if tc.wantBody != "" {
				wantBody(t, rec, tc.wantBody)
			}
			got := b.queue.Syncs()
			if tc.wantSync {
				if want := (syncReq{m.ID, store.TriggerGiteePush, true}); len(got) != 1 || got[0] != want {
					t.Errorf("syncs = %v, want [%v]", got, want)
				}
			} else if len(got) != 0 {
				t.Errorf("syncs = %v, want none", got)
			}
			if strings.Contains(rec.Body.String(), hookSecret) || strings.Contains(b.logs.String(), hookSecret) {
				t.Errorf("the hook secret leaked into the response or logs")
			}
		})
	}
}

func TestGiteeUnknownHook(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rec := b.gitee(t, "no-such-hook", map[string]string{"X-Gitee-Token": hookSecret, "X-Gitee-Event": "Push Hook"}, giteePush)
	wantCode(t, rec, http.StatusNotFound)
	if got := b.counted(t, "gitee", "unknown", "not-found"); got != 1 {
		t.Errorf("not-found count = %v", got)
	}
}

func TestGiteeMirrorWithoutSecret(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := b.mirror(t, testRepoID, "repo", store.BToA, "")
	rec := b.gitee(t, m.HookID, map[string]string{"X-Gitee-Token": "", "X-Gitee-Event": "Push Hook"}, giteePush)
	wantCode(t, rec, http.StatusUnauthorized)
}

// Gitee deliveries are acknowledged from the inbox, like GitHub's: an
// unavailable queue does not fail them (the Forwarder retries), an inbox
// that cannot take them does.
// Requested together (the App's forwarder), a Gitee push's sync goes
// through RequestSyncs.
func TestGiteeQueueUnavailable(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, mode func(*setupOptions)) {
		b := setup(t, mode)
		m := b.mirror(t, testRepoID, "repo", store.BToA, hookSecret)
		b.queue.setErr(errors.New("queue full"))
		rec := b.gitee(t, m.HookID, map[string]string{"X-Gitee-Token": hookSecret, "X-Gitee-Event": "Push Hook"}, giteePush)
		wantCode(t, rec, http.StatusOK)
		if b.drainErr == nil || len(b.pending(t)) != 1 {
			t.Fatalf("with the queue down, the delivery should stay pending: drain %v, pending %d", b.drainErr, len(b.pending(t)))
		}
		b.queue.setErr(nil)
		if err := b.fwd.Drain(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := b.queue.Syncs(); len(got) != 1 || got[0] != (syncReq{m.ID, store.TriggerGiteePush, true}) {
			t.Errorf("syncs after the queue came back = %+v", got)
		}
		want := 0
		if b.syncs != nil {
			want = 1
		}
		if got := len(b.queue.Batches()); got != want {
			t.Errorf("%d RequestSyncs calls, want %d", got, want)
		}
	})
}

func TestGiteeInboxUnavailable(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *setupOptions) { o.wrapInbox = func(in store.Inbox) store.Inbox { return failingInbox{in} } })
	m := b.mirror(t, testRepoID, "repo", store.BToA, hookSecret)
	rec := b.gitee(t, m.HookID, map[string]string{"X-Gitee-Token": hookSecret, "X-Gitee-Event": "Push Hook"}, giteePush)
	wantCode(t, rec, http.StatusServiceUnavailable)
}

func TestGiteeBodyCap(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *setupOptions) { o.maxBytes = 512 })
	m := b.mirror(t, testRepoID, "repo", store.BToA, hookSecret)
	body := `{"ref":"` + strings.Repeat("a", 1000) + `"}`
	rec := b.gitee(t, m.HookID, map[string]string{"X-Gitee-Token": hookSecret, "X-Gitee-Event": "Push Hook"}, body)
	wantCode(t, rec, http.StatusRequestEntityTooLarge)

	req := httptest.NewRequest(http.MethodPost, "/webhooks/gitee/"+m.HookID, struct{ *bytes.Reader }{bytes.NewReader([]byte(body))})
	req.ContentLength = -1
	req.Header.Set("X-Gitee-Token", hookSecret)
	req.Header.Set("X-Gitee-Event", "Push Hook")
	rec = httptest.NewRecorder()
	b.e.ServeHTTP(rec, req)
	wantCode(t, rec, http.StatusRequestEntityTooLarge)
	if got := b.queue.Syncs(); len(got) != 0 {
		t.Errorf("syncs = %v", got)
	}
}

func TestGiteeMetrics(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := b.mirror(t, testRepoID, "repo", store.BToA, hookSecret)
	wantCode(t, b.gitee(t, m.HookID, map[string]string{"X-Gitee-Token": hookSecret, "X-Gitee-Event": "Push Hook"}, giteePush), http.StatusOK)
	wantCode(t, b.gitee(t, m.HookID, map[string]string{"X-Gitee-Token": "x", "X-Gitee-Event": "Push Hook"}, giteePush), http.StatusUnauthorized)
	wantCode(t, b.gitee(t, m.HookID, map[string]string{"X-Gitee-Token": hookSecret, "X-Gitee-Event": "Surprise Hook"}, giteePush), http.StatusAccepted)
	for _, c := range []struct{ event, verdict string }{
		{"Push Hook", "accepted"}, {"unknown", "bad-signature"}, {"other", "ignored"},
	} {
		if got := b.counted(t, "gitee", c.event, c.verdict); got != 1 {
			t.Errorf("count(%s, %s) = %v, want 1", c.event, c.verdict, got)
		}
	}
}
