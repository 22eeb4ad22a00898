package server

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

func TestAdminAuth(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := b.mirror(t)
	path := fmt.Sprintf("/admin/mirrors/%d/sync", m.ID)
	tests := map[string]struct {
		auth string
		want int
	}{
		"none":         {"", http.StatusUnauthorized},
		"wrong":        {"Bearer not-the-admin-token-at-all", http.StatusUnauthorized},
		"prefix":       {"Bearer " + adminToken[:10], http.StatusUnauthorized},
		"basic":        {"Basic " + adminToken, http.StatusUnauthorized},
		"bearer, case": {"bearer " + adminToken, http.StatusAccepted},
		"right":        {"Bearer " + adminToken, http.StatusAccepted},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rec := b.do(t, http.MethodPost, path, "", "Authorization", tc.auth)
			wantCode(t, rec, tc.want)
			if tc.want == http.StatusUnauthorized && rec.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("no WWW-Authenticate")
			}
		})
	}
	if got := b.queue.Syncs(); len(got) != 2 {
		t.Errorf("syncs = %v, want two (the authorised requests)", got)
	}
	b.noCanaries(t)
}

func TestAdminDisabled(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *setupOptions) { delete(o.env, "GITEE_MIRROR_ADMIN_TOKEN") })
	m := b.mirror(t)
	rec := b.do(t, http.MethodPost, fmt.Sprintf("/admin/mirrors/%d/sync", m.ID), "", "Authorization", "Bearer ")
	wantCode(t, rec, http.StatusForbidden)
	wantBody(t, rec, "GITEE_MIRROR_ADMIN_TOKEN")
	if got := b.queue.Syncs(); len(got) != 0 {
		t.Errorf("syncs = %v", got)
	}
}

func TestAdminInstallationToken(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.mirror(t) // records the installation
	path := fmt.Sprintf("/admin/installations/%d/gitee-token", testInst)

	rec := b.admin(t, http.MethodPut, path, `{"token":"`+giteeToken+`"}`)
	wantCode(t, rec, http.StatusOK)
	wantBody(t, rec, `"login":"gitee-bot"`, `"installation_id":42`)
	c, err := b.store.GetCredential(t.Context(), testInst, 0)
	if err != nil {
		t.Fatalf("GetCredential: %v", err)
	}
	if c.Token != giteeToken || c.Login != giteeLogin || c.MirrorID != 0 {
		t.Errorf("stored login %q (token matches: %v) for mirror %d", c.Login, c.Token == giteeToken, c.MirrorID)
	}
	b.noCanaries(t)
}

func TestAdminMirrorToken(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := b.mirror(t)
	rec := b.admin(t, http.MethodPut, fmt.Sprintf("/admin/mirrors/%d/gitee-token", m.ID), `{"login":"Gitee-Bot","token":"`+giteeToken+`"}`)
	wantCode(t, rec, http.StatusOK)
	c, err := b.store.GetCredential(t.Context(), testInst, m.ID)
	if err != nil || c.MirrorID != m.ID || c.Token != giteeToken {
		t.Fatalf("GetCredential = %+v, %v", c != nil, err)
	}
	b.noCanaries(t)
}

func TestAdminTokenRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := b.mirror(t)
	inst := fmt.Sprintf("/admin/installations/%d/gitee-token", testInst)
	tests := map[string]struct {
		path, body string
		want       int
		says       string
	}{
		"wrong token":      {inst, `{"token":"` + giteeToken + `-wrong"}`, http.StatusUnprocessableEntity, "refused the token"},
		"login mismatch":   {inst, `{"login":"someone","token":"` + giteeToken + `"}`, http.StatusUnprocessableEntity, "belongs to Gitee user gitee-bot"},
		"no token":         {inst, `{"login":"gitee-bot"}`, http.StatusBadRequest, "token"},
		"not JSON":         {inst, `token=` + giteeToken, http.StatusBadRequest, "must be JSON"},
		"unknown field":    {inst, `{"token":"` + giteeToken + `","tokn":"` + giteeToken + `"}`, http.StatusBadRequest, "must be JSON"},
		"too large":        {inst, `{"token":"` + strings.Repeat("x", 70<<10) + `"}`, http.StatusRequestEntityTooLarge, ""},
		"no installation":  {"/admin/installations/999/gitee-token", `{"token":"` + giteeToken + `"}`, http.StatusNotFound, "install the GitHub App"},
		"no mirror":        {"/admin/mirrors/999/gitee-token", `{"token":"` + giteeToken + `"}`, http.StatusNotFound, "no mirror 999"},
		"bad id":           {"/admin/mirrors/abc/gitee-token", `{"token":"` + giteeToken + `"}`, http.StatusBadRequest, "positive number"},
		"token too long":   {inst, `{"token":"` + strings.Repeat("x", 1000) + `"}`, http.StatusUnprocessableEntity, "tokens are at most 255"},
		"token with break": {inst, `{"token":"` + giteeToken + `\nx"}`, http.StatusUnprocessableEntity, "line breaks"},
		"login path-like":  {inst, `{"login":"../x","token":"` + giteeToken + `"}`, http.StatusUnprocessableEntity, "login: Gitee owner"},
		"mirror, mismatch": {fmt.Sprintf("/admin/mirrors/%d/gitee-token", m.ID), `{"login":"x","token":"` + giteeToken + `"}`, http.StatusUnprocessableEntity, "not x"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rec := b.admin(t, http.MethodPut, tc.path, tc.body)
			wantCode(t, rec, tc.want)
			if tc.says != "" {
				wantBody(t, rec, tc.says)
			}
		})
	}
	// Without Content-Length the limit holds too.
	req := httptest.NewRequest(http.MethodPut, inst, struct{ io.Reader }{strings.NewReader(`{"token":"` + strings.Repeat("x", 70<<10) + `"}`)})
	req.ContentLength = -1
	req.Header.Set("Authorization", "Bearer "+adminToken)
	rec := httptest.NewRecorder()
	b.srv.Handler().ServeHTTP(rec, req)
	wantCode(t, rec, http.StatusRequestEntityTooLarge)

	if _, err := b.store.GetCredential(t.Context(), testInst, m.ID); err == nil {
		t.Errorf("a refused token was stored")
	}
	b.noCanaries(t)
}

func TestAdminTokenWithoutKey(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *setupOptions) { delete(o.env, "GITEE_MIRROR_SECRET_KEY") })
	b.mirror(t)
	rec := b.admin(t, http.MethodPut, fmt.Sprintf("/admin/installations/%d/gitee-token", testInst), `{"token":"`+giteeToken+`"}`)
	wantCode(t, rec, http.StatusConflict)
	wantBody(t, rec, "GITEE_MIRROR_SECRET_KEY")
	b.noCanaries(t)
}

func TestAdminTokenStoreWithoutKey(t *testing.T) {
	t.Parallel()
	// The configuration has a key but the store was opened without one:
	// the store's ErrNoKey is still a 409.
	b := setup(t, func(o *setupOptions) { o.noKey = true })
	b.mirror(t)
	rec := b.admin(t, http.MethodPut, fmt.Sprintf("/admin/installations/%d/gitee-token", testInst), `{"token":"`+giteeToken+`"}`)
	wantCode(t, rec, http.StatusConflict)
	wantBody(t, rec, "GITEE_MIRROR_SECRET_KEY")
	b.noCanaries(t)
}

// TestAdminTokenAgainstGitee checks tokens with the real Gitee client
// against a stand-in for GET /user.
func TestAdminTokenAgainstGitee(t *testing.T) {
	t.Parallel()
	gitee := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v5/user" {
			t.Errorf("Gitee got %s", r.URL.Path)
			http.NotFound(w, r)
			return
		}
		switch r.FormValue("access_token") {
		case giteeToken:
			_, _ = w.Write([]byte(`{"id":1,"login":"gitee-bot","name":"Bot"}`))
		case "no-scope-canary":
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"message":"Forbidden: missing scope user_info"}`))
		default:
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"message":"401 Unauthorized: Access token does not exist"}`))
		}
	}))
	t.Cleanup(gitee.Close)
	b := setup(t, func(o *setupOptions) {
		o.env["GITEE_MIRROR_ALLOW_HTTP"] = "true" // httptest's server is plain http
		o.env["GITEE_MIRROR_GITEE_API_URL"] = gitee.URL + "/api/v5"
		o.giteeUser = nil
	})
	b.mirror(t)
	path := fmt.Sprintf("/admin/installations/%d/gitee-token", testInst)
	wantCode(t, b.admin(t, http.MethodPut, path, `{"token":"`+giteeToken+`"}`), http.StatusOK)

	rec := b.admin(t, http.MethodPut, path, `{"token":"wrong-canary"}`)
	wantCode(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec, "refused the token", "Access token does not exist")

	rec = b.admin(t, http.MethodPut, path, `{"token":"no-scope-canary"}`)
	wantCode(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec, "lacks a scope")
	for _, c := range []string{"wrong-canary", "no-scope-canary"} {
		if strings.Contains(b.responses.String(), c) || strings.Contains(b.logs.String(), c) {
			t.Errorf("%s leaked", c)
		}
	}
	b.noCanaries(t)
}

func TestAdminSyncPauseResume(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := b.mirror(t)
	base := fmt.Sprintf("/admin/mirrors/%d", m.ID)

	rec := b.admin(t, http.MethodPost, base+"/sync", "")
	wantCode(t, rec, http.StatusAccepted)
	wantBody(t, rec, `"github":"octo-org/repo"`, "/webhooks/gitee/"+m.HookID)

	rec = b.admin(t, http.MethodPost, base+"/pause", `{"reason":"maintenance"}`)
	wantCode(t, rec, http.StatusOK)
	wantBody(t, rec, `"paused":true`, `"paused_reason":"maintenance"`)

	rec = b.admin(t, http.MethodPost, base+"/sync", "")
	wantCode(t, rec, http.StatusConflict)
	wantBody(t, rec, "resume")

	rec = b.admin(t, http.MethodPost, base+"/resume", "")
	wantCode(t, rec, http.StatusOK)
	wantBody(t, rec, `"paused":false`)

	if got := b.queue.Syncs(); len(got) != 3 {
		t.Errorf("syncs = %v, want 3 (sync, refused sync, resume)", got)
	}
	rec = b.admin(t, http.MethodPost, base+"/pause", "")
	wantCode(t, rec, http.StatusOK)
	wantBody(t, rec, adminPauseReason)

	wantCode(t, b.admin(t, http.MethodPost, "/admin/mirrors/999/sync", ""), http.StatusNotFound)

	rec = b.admin(t, http.MethodGet, "/admin/mirrors", "")
	wantCode(t, rec, http.StatusOK)
	wantBody(t, rec, `"id":`+fmt.Sprint(m.ID))
	if strings.Contains(strings.ToLower(rec.Body.String()), "secret") {
		t.Errorf("mirror listing mentions a secret: %s", rec.Body)
	}
	if got, err := b.store.GetMirror(t.Context(), m.ID); err != nil || !got.Paused || got.PausedReason != adminPauseReason {
		t.Errorf("mirror paused %v (%q), %v", got.Paused, got.PausedReason, err)
	}
}

// A stored token retries the mirrors that need it: never synced, failing,
// paused after failures; not those in sync or paused by a person.
func TestAdminTokenRetriesFailingMirrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	fresh := b.mirror(t)
	more := func(name string) *store.Mirror {
		m := &store.Mirror{InstallationID: testInst, GitHubRepoID: 1001, A: store.Side{Owner: "octo-org", Name: "repo"},
			B: store.Side{Owner: "gitee-org", Name: name}, Direction: store.AToB}
		if err := b.store.CreateMirror(ctx, m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	inSync, personPaused, failing, failPaused := more("in-sync"), more("person"), more("failing"), more("fail-paused")
	for _, err := range []error{
		b.store.SetStatus(ctx, inSync.ID, store.StatusInSync),
		b.store.SetPaused(ctx, personPaused.ID, true, "by alice"),
		b.store.SetStatus(ctx, failing.ID, store.StatusFailing),
		b.store.PauseAfterFailures(ctx, failPaused.ID, "paused after 5 consecutive failures"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	rec := b.admin(t, http.MethodPut, fmt.Sprintf("/admin/installations/%d/gitee-token", testInst), `{"token":"`+giteeToken+`"}`)
	wantCode(t, rec, http.StatusOK)
	got := b.queue.Syncs()
	slices.Sort(got)
	if want := []int64{fresh.ID, failing.ID, failPaused.ID}; !slices.Equal(got, want) {
		t.Errorf("syncs requested: %v, want %v", got, want)
	}
	rec = b.admin(t, http.MethodPut, fmt.Sprintf("/admin/mirrors/%d/gitee-token", inSync.ID), `{"token":"`+giteeToken+`"}`)
	wantCode(t, rec, http.StatusOK)
	if n := len(b.queue.Syncs()); n != 3 {
		t.Errorf("a token for a mirror in sync requested a sync (%d requests)", n)
	}
	b.noCanaries(t)
}
