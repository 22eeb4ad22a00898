package settings

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

func TestSignInShowsInstallations(t *testing.T) {
	t.Parallel()
	tb := setup(t, true)
	b := tb.browser(t)
	b.signIn("alice")
	code, body := b.get(Prefix + "/")
	if code != http.StatusOK || !strings.Contains(body, fmt.Sprintf("/installations/%d", aliceInst)) {
		t.Fatalf("dashboard: %d\n%s", code, body)
	}
	if strings.Contains(body, fmt.Sprintf("/installations/%d", carolInst)) {
		t.Errorf("alice sees carol's installation:\n%s", body)
	}
	code, body = b.get(fmt.Sprintf("%s/installations/%d", Prefix, aliceInst))
	if code != http.StatusOK || !strings.Contains(body, "alice/proj") {
		t.Fatalf("installation page: %d\n%s", code, body)
	}
	// Signed out: back to sign-in.
	b.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if code, _ := b.post(Prefix+"/logout", nil); code != http.StatusSeeOther {
		t.Fatalf("logout: %d", code)
	}
	if code, _ := b.get(fmt.Sprintf("%s/installations/%d", Prefix, aliceInst)); code != http.StatusSeeOther {
		t.Errorf("installation page after sign-out: %d, want a redirect to sign in", code)
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	t.Parallel()
	tb := setup(t, true)
	tb.forge.SignInAs("alice")
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(tb.srv.URL + Prefix + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if got, want := loc.Query().Get("code_challenge_method"), "S256"; got != want {
		t.Errorf("code_challenge_method = %q, want %q", got, want)
	}
	if loc.Query().Get("code_challenge") == "" || loc.Query().Get("state") == "" {
		t.Errorf("authorize URL lacks PKCE or state: %s", loc)
	}
	var bind *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == browserCookie {
			bind = ck
		}
	}
	if bind == nil || !bind.HttpOnly || bind.SameSite != http.SameSiteLaxMode {
		t.Fatalf("state cookie: %+v", bind)
	}
	// Follow GitHub's redirect back by hand, to look at the session cookie.
	resp, err = c.Get(loc.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	req, _ := http.NewRequest(http.MethodGet, resp.Header.Get("Location"), nil)
	req.AddCookie(bind)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var sess *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie {
			sess = ck
		}
	}
	if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Value == "" {
		t.Fatalf("session cookie: %+v (status %d)", sess, resp.StatusCode)
	}
	if strings.Contains(sess.Value, "ghu_") {
		t.Errorf("the session cookie carries the GitHub token in clear")
	}
}

func TestSecureCookieWithHTTPSPublicURL(t *testing.T) {
	t.Parallel()
	cb, err := newCookieBox(nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if ck := cb.cookie(sessionCookie, "x", 1); !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
		t.Errorf("cookie = %+v", ck)
	}
}

func TestWrongOAuthStateRefused(t *testing.T) {
	t.Parallel()
	tb := setup(t, true)
	tb.forge.SignInAs("alice")
	b := tb.browser(t)
	b.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := b.c.Get(tb.srv.URL + Prefix + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	authorize := resp.Header.Get("Location")
	resp, err = b.c.Get(authorize)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, _ := url.Parse(resp.Header.Get("Location"))
	good := back.Query().Get("state")

	forged := *back
	q := forged.Query()
	q.Set("state", "forged-state")
	forged.RawQuery = q.Encode()
	if code, body := b.get(forged.RequestURI()); code != http.StatusBadRequest {
		t.Errorf("forged state: %d\n%s", code, body)
	}
	// The forged attempt does not burn the good state; using it twice does.
	if code, body := b.get(back.RequestURI()); code != http.StatusSeeOther {
		t.Errorf("good state: %d\n%s", code, body)
	}
	if code, _ := b.get(back.RequestURI()); code != http.StatusBadRequest {
		t.Errorf("state %q reused: %d, want 400", good, code)
	}
	// A state from another browser is refused too.
	other := tb.browser(t)
	other.c.CheckRedirect = b.c.CheckRedirect
	resp, _ = b.c.Get(tb.srv.URL + Prefix + "/login")
	resp.Body.Close()
	resp, _ = b.c.Get(resp.Header.Get("Location"))
	resp.Body.Close()
	stolen, _ := url.Parse(resp.Header.Get("Location"))
	if code, _ := other.get(stolen.RequestURI()); code != http.StatusBadRequest {
		t.Errorf("state used from another browser: %d, want 400", code)
	}
}

func TestNonAdminCannotChangeMirror(t *testing.T) {
	t.Parallel()
	tb := setup(t, true)
	m := tb.mirror(t, aliceInst, tb.aliceRepoID, "alice", "proj")
	b := tb.browser(t)
	b.signIn("bob")
	repoPath := fmt.Sprintf("%s/installations/%d/repos/%d", Prefix, aliceInst, tb.aliceRepoID)
	code, body := b.get(repoPath)
	if code != http.StatusOK || !strings.Contains(body, "gitee-alice/proj") {
		t.Fatalf("bob cannot view the status: %d\n%s", code, body)
	}
	if strings.Contains(body, "/pause\"") || strings.Contains(body, "Create mirror") {
		t.Errorf("bob is offered forms he may not use")
	}
	for _, action := range []string{"pause", "sync", "delete", "save"} {
		code, _ := b.post(fmt.Sprintf("%s/mirrors/%d/%s", repoPath, m.ID, action), url.Values{
			"gitee_owner": {"evil"}, "gitee_name": {"x"}, "direction": {"push"}, "force": {"on"}})
		if code != http.StatusForbidden {
			t.Errorf("bob %s: %d, want 403", action, code)
		}
	}
	code, _ = b.post(repoPath+"/mirrors", url.Values{"gitee_owner": {"evil"}, "gitee_name": {"x"}, "direction": {"push"}})
	if code != http.StatusForbidden {
		t.Errorf("bob create: %d, want 403", code)
	}
	got, err := tb.store.GetMirror(context.Background(), m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Paused || got.Force || got.B.Owner != "gitee-alice" {
		t.Errorf("mirror changed by a non-admin: %+v", got)
	}
	ms, _ := tb.store.ListMirrors(context.Background(), store.MirrorFilter{})
	if len(ms) != 1 || len(tb.queue.requests) != 0 {
		t.Errorf("mirrors = %d, sync requests = %v", len(ms), tb.queue.requests)
	}
	// Bob may not change the installation's Gitee token either.
	if code, _ := b.post(fmt.Sprintf("%s/installations/%d/gitee", Prefix, aliceInst), url.Values{"token": {giteeToken}}); code != http.StatusForbidden {
		t.Errorf("bob sets the Gitee token: %d, want 403", code)
	}
}

func TestAdminChangesMirror(t *testing.T) {
	t.Parallel()
	tb := setup(t, true)
	m := tb.mirror(t, aliceInst, tb.aliceRepoID, "alice", "proj")
	b := tb.browser(t)
	b.signIn("alice")
	repoPath := fmt.Sprintf("%s/installations/%d/repos/%d", Prefix, aliceInst, tb.aliceRepoID)
	if code, body := b.post(fmt.Sprintf("%s/mirrors/%d/pause", repoPath, m.ID), nil); code != http.StatusOK || !strings.Contains(body, "Paused.") {
		t.Fatalf("pause: %d\n%s", code, body)
	}
	if got, _ := tb.store.GetMirror(context.Background(), m.ID); !got.Paused {
		t.Errorf("not paused")
	}
	if code, _ := b.post(fmt.Sprintf("%s/mirrors/%d/resume", repoPath, m.ID), nil); code != http.StatusOK {
		t.Fatalf("resume: %d", code)
	}
	code, body := b.post(fmt.Sprintf("%s/mirrors/%d/save", repoPath, m.ID), url.Values{
		"gitee_owner": {"gitee-alice"}, "gitee_name": {"proj"}, "direction": {"push"},
		"branches": {"main, release/*"}, "prune": {"on"}})
	if code != http.StatusOK {
		t.Fatalf("save: %d\n%s", code, body)
	}
	got, _ := tb.store.GetMirror(context.Background(), m.ID)
	if got.Paused || !got.Prune || strings.Join(got.Branches, " ") != "main release/*" {
		t.Errorf("after save: %+v", got)
	}
}

func TestInvisibleInstallationOrRepoRefused(t *testing.T) {
	t.Parallel()
	tb := setup(t, true)
	carols := tb.mirror(t, carolInst, tb.carolRepoID, "carol", "secret")
	b := tb.browser(t)
	b.signIn("alice")
	for _, path := range []string{
		fmt.Sprintf("%s/installations/%d", Prefix, carolInst),
		fmt.Sprintf("%s/installations/%d/repos/%d", Prefix, carolInst, tb.carolRepoID),
		// carol's repository through alice's own installation
		fmt.Sprintf("%s/installations/%d/repos/%d", Prefix, aliceInst, tb.carolRepoID),
		fmt.Sprintf("%s/installations/999999", Prefix),
		fmt.Sprintf("%s/installations/abc", Prefix),
	} {
		if code, body := b.get(path); code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404\n%s", path, code, body)
		}
	}
	for _, path := range []string{
		fmt.Sprintf("%s/installations/%d/repos/%d/mirrors/%d/pause", Prefix, carolInst, tb.carolRepoID, carols.ID),
		// carol's mirror id under alice's repository
		fmt.Sprintf("%s/installations/%d/repos/%d/mirrors/%d/pause", Prefix, aliceInst, tb.aliceRepoID, carols.ID),
		fmt.Sprintf("%s/installations/%d/gitee", Prefix, carolInst),
	} {
		if code, _ := b.post(path, url.Values{"token": {giteeToken}}); code != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404", path, code)
		}
	}
	if got, _ := tb.store.GetMirror(context.Background(), carols.ID); got.Paused {
		t.Errorf("carol's mirror was paused by alice")
	}
	if _, err := tb.store.GetCredential(context.Background(), carolInst, 0); err == nil {
		t.Errorf("alice stored a token for carol's installation")
	}
	// The status page lists only what alice sees.
	tb.mirror(t, aliceInst, tb.aliceRepoID, "alice", "proj")
	_, body := b.get(Prefix + "/status")
	if strings.Contains(body, "carol/secret") || !strings.Contains(body, "alice/proj") {
		t.Errorf("status page:\n%s", body)
	}
}

func TestCrossOriginPostRefused(t *testing.T) {
	t.Parallel()
	tb := setup(t, true)
	m := tb.mirror(t, aliceInst, tb.aliceRepoID, "alice", "proj")
	b := tb.browser(t)
	b.signIn("alice")
	path := fmt.Sprintf("%s%s/installations/%d/repos/%d/mirrors/%d/pause", tb.srv.URL, Prefix, aliceInst, tb.aliceRepoID, m.ID)
	for name, hdr := range map[string]map[string]string{
		"fetch metadata": {"Sec-Fetch-Site": "cross-site"},
		"origin":         {"Origin": "https://evil.example"},
	} {
		req, _ := http.NewRequest(http.MethodPost, path, strings.NewReader(""))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: cross-origin POST answered %d, want 403", name, resp.StatusCode)
		}
	}
	if got, _ := tb.store.GetMirror(context.Background(), m.ID); got.Paused {
		t.Errorf("a cross-origin POST paused the mirror")
	}
}

func TestGiteeTokenNeverRendered(t *testing.T) {
	t.Parallel()
	tb := setup(t, true)
	b := tb.browser(t)
	b.signIn("alice")
	instPath := fmt.Sprintf("%s/installations/%d", Prefix, aliceInst)

	code, body := b.post(instPath+"/gitee", url.Values{"token": {"wrong-token-1234"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "Gitee does not accept this token") || strings.Contains(body, "wrong-token-1234") {
		t.Errorf("wrong token: %d\n%s", code, body)
	}
	code, body = b.post(instPath+"/gitee", url.Values{"token": {giteeToken}})
	if code != http.StatusOK || !strings.Contains(body, "gitee-alice") || !strings.Contains(body, "…9f3a") {
		t.Fatalf("connect: %d\n%s", code, body)
	}
	for _, p := range []string{instPath, Prefix + "/status", fmt.Sprintf("%s/repos/%d", instPath, tb.aliceRepoID)} {
		if _, body := b.get(p); strings.Contains(body, giteeToken) || strings.Contains(body, "secret-9f3a") {
			t.Errorf("%s renders the stored token", p)
		}
	}
	c, err := tb.store.GetCredential(context.Background(), aliceInst, 0)
	if err != nil || c.Token != giteeToken || c.Login != "gitee-alice" {
		t.Fatalf("stored credential: %+v, %v", c, err)
	}
	if code, body := b.post(instPath+"/gitee/remove", nil); code != http.StatusOK || !strings.Contains(body, "Not connected") {
		t.Errorf("remove: %d\n%s", code, body)
	}
}

func TestPullMirrorRegistersWebhook(t *testing.T) {
	t.Parallel()
	tb := setup(t, true)
	b := tb.browser(t)
	b.signIn("alice")
	b.post(fmt.Sprintf("%s/installations/%d/gitee", Prefix, aliceInst), url.Values{"token": {giteeToken}})
	repoPath := fmt.Sprintf("%s/installations/%d/repos/%d", Prefix, aliceInst, tb.aliceRepoID)
	code, body := b.post(repoPath+"/mirrors", url.Values{
		"gitee_owner": {"gitee-alice"}, "gitee_name": {"proj"}, "direction": {"pull"}})
	if code != http.StatusOK || !strings.Contains(body, "Gitee webhook registered") {
		t.Fatalf("create pull mirror: %d\n%s", code, body)
	}
	hooks := tb.forge.GiteeHooks("gitee-alice", "proj")
	ms, _ := tb.store.ListMirrors(context.Background(), store.MirrorFilter{})
	if len(hooks) != 1 || len(ms) != 1 {
		t.Fatalf("hooks = %+v, mirrors = %d", hooks, len(ms))
	}
	m := ms[0]
	if hooks[0].URL != tb.srv.URL+"/webhooks/gitee/"+m.HookID || m.HookSecret == "" || m.HookRemoteID == 0 {
		t.Errorf("hook %+v for mirror %+v", hooks[0], m)
	}
	if code, body := b.post(fmt.Sprintf("%s/mirrors/%d/test-hook", repoPath, m.ID), nil); code != http.StatusOK || !strings.Contains(body, "test delivery") {
		t.Errorf("test webhook: %d\n%s", code, body)
	}
	if len(tb.queue.requests) == 0 {
		t.Errorf("no first sync requested")
	}
	if code, body := b.post(fmt.Sprintf("%s/mirrors/%d/delete", repoPath, m.ID), nil); code != http.StatusOK || !strings.Contains(body, "webhook was removed") {
		t.Errorf("delete: %d\n%s", code, body)
	}
	if hooks := tb.forge.GiteeHooks("gitee-alice", "proj"); len(hooks) != 0 {
		t.Errorf("hooks left after deleting the mirror: %+v", hooks)
	}
}

func TestFileWins(t *testing.T) {
	t.Parallel()
	tb := setup(t, true)
	m := tb.mirror(t, aliceInst, tb.aliceRepoID, "alice", "proj")
	m.ConfigSource = "file"
	if err := tb.store.UpdateMirrorSettings(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	b := tb.browser(t)
	b.signIn("alice")
	repoPath := fmt.Sprintf("%s/installations/%d/repos/%d", Prefix, aliceInst, tb.aliceRepoID)
	if _, body := b.get(repoPath); !strings.Contains(body, "The file wins") {
		t.Errorf("page does not say the file wins:\n%s", body)
	}
	code, _ := b.post(fmt.Sprintf("%s/mirrors/%d/save", repoPath, m.ID), url.Values{
		"gitee_owner": {"other"}, "gitee_name": {"proj"}, "direction": {"push"}})
	if code != http.StatusConflict {
		t.Errorf("saving a file mirror: %d, want 409", code)
	}
}
