package settings

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/config"
	"github.com/gitee-mirror/gitee-mirror/internal/forges"
	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/secret"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/gitee-mirror/gitee-mirror/internal/store/sqlite"
)

// fakeQueue records sync requests.
type fakeQueue struct {
	mu       sync.Mutex
	requests []int64
}

func (q *fakeQueue) RequestSync(_ context.Context, id int64, _ store.Trigger, _ bool) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.requests = append(q.requests, id)
	return nil
}

const (
	appID      = 7
	aliceInst  = 100
	carolInst  = 200
	giteeToken = "gitee-token-secret-9f3a"
	// testSetupCode is the code the register pages ask for.
	testSetupCode = "ABCDE-FGHIJ-KLMNO-PQRST"
)

// testBundle is a forge playing GitHub and Gitee, the pages in front of a
// real SQLite store, and the ids the tests use.
type testBundle struct {
	forge       *forgetest.Forge
	store       store.Store
	queue       *fakeQueue
	h           *Handler
	srv         *httptest.Server
	cfg         *config.Config
	registered  chan struct{}
	aliceRepoID int64
	carolRepoID int64
}

// setup: alice administers alice/proj (installation 100, every repository
// of alice); bob may read it; carol's installation 200 covers carol/secret,
// which neither alice nor bob can see. Gitee has gitee-alice/proj.
func setup(t *testing.T, withApp bool) *testBundle {
	t.Helper()
	f := forgetest.New(t)
	var handler http.Handler = http.NotFoundHandler()
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		h := handler
		mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	key := []byte(strings.Repeat("k", 32))
	box, err := secret.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db.sqlite"), box)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	cfg := &config.Config{
		AllowHTTP: true, // the forge is on loopback
		PublicURL: srv.URL, GitHubAPIURL: f.GitHubAPIURL(), GitHubURL: f.BaseURL(),
		GiteeAPIURL: f.GiteeAPIURL(), GiteeURL: f.BaseURL(), SecretKey: config.Secret(key),
	}
	tb := &testBundle{forge: f, store: st, queue: &fakeQueue{}, srv: srv, cfg: cfg, registered: make(chan struct{}, 1)}
	f.CreateRepo("alice", "proj")
	f.CreateRepo("carol", "secret")
	f.CreateRepo("gitee-alice", "proj")
	f.AddUser("gitee-alice", giteeToken)
	f.Grant("gitee-alice", "gitee-alice", "*", forgetest.Write)
	f.GrantAdmin("alice", "alice", "proj")
	f.Grant("bob", "alice", "proj", forgetest.Read)
	f.GrantAdmin("carol", "carol", "secret")
	if withApp {
		pemKey := f.RegisterApp(appID, "mirror-app")
		cfg.AppID, cfg.PrivateKey, cfg.WebhookSecret = appID, config.Secret(pemKey), "whsecret"
		cfg.OAuthClientID, cfg.OAuthClientSecret = "", ""
		id, sec := f.EnableOAuth(appID, srv.URL+Prefix+"/callback")
		cfg.OAuthClientID, cfg.OAuthClientSecret = id, config.Secret(sec)
		f.AddInstallation(appID, aliceInst, "alice", "alice/*")
		f.AddInstallation(appID, carolInst, "carol", "carol/secret")
	}
	sites := forges.New(forges.Config{GitHubAPIURL: cfg.GitHubAPIURL, GitHubGitURL: cfg.GitHubURL,
		GiteeAPIURL: cfg.GiteeAPIURL, GiteeGitURL: cfg.GiteeURL, GiteeAttempts: 2})
	h, err := New(Options{Config: cfg, Store: st, Queue: tb.queue, Sites: sites, SessionKey: key, SetupCode: testSetupCode,
		OnRegistered: func(context.Context) error { tb.registered <- struct{}{}; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	tb.h = h
	mu.Lock()
	handler = h
	mu.Unlock()
	if withApp {
		tb.aliceRepoID = tb.repoID(t, "alice", "proj")
		tb.carolRepoID = tb.repoID(t, "carol", "secret")
	}
	return tb
}

// repoID asks the forge's GitHub API for a repository's id.
func (tb *testBundle) repoID(t *testing.T, owner, name string) int64 {
	t.Helper()
	tb.forge.AddUser(owner, "tok-"+owner)
	req, _ := http.NewRequest(http.MethodGet, tb.forge.GitHubAPIURL()+"repos/"+owner+"/"+name, nil)
	req.Header.Set("Authorization", "token tok-"+owner)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`"id":\s*(\d+)`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no id for %s/%s: %s", owner, name, b)
	}
	var id int64
	for _, c := range m[1] {
		id = id*10 + int64(c-'0')
	}
	return id
}

// browser is a person's browser: cookies, redirects followed across the
// App and the forge.
type browser struct {
	t  *testing.T
	c  *http.Client
	tb *testBundle
}

func (tb *testBundle) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar}, tb: tb}
}

// signIn signs login in through the OAuth flow.
func (b *browser) signIn(login string) {
	b.t.Helper()
	b.tb.forge.SignInAs(login)
	code, body := b.get(Prefix + "/login")
	if code != http.StatusOK || !strings.Contains(body, "Signed in as <strong>"+login+"</strong>") {
		b.t.Fatalf("sign-in as %s: %d\n%s", login, code, body)
	}
}

func (b *browser) get(path string) (int, string) {
	b.t.Helper()
	resp, err := b.c.Get(b.tb.srv.URL + path)
	if err != nil {
		b.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// post submits a form as a same-origin browser does.
func (b *browser) post(path string, form url.Values) (int, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.tb.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", b.tb.srv.URL)
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// mirror makes a push mirror of alice/proj straight in the store.
func (tb *testBundle) mirror(t *testing.T, inst, repoID int64, owner, name string) *store.Mirror {
	t.Helper()
	ctx := context.Background()
	if err := tb.store.UpsertInstallation(ctx, store.Installation{ID: inst, Account: owner, AccountType: "User"}); err != nil {
		t.Fatal(err)
	}
	m := &store.Mirror{InstallationID: inst, GitHubRepoID: repoID, A: store.Side{Owner: owner, Name: name},
		B: store.Side{Owner: "gitee-alice", Name: name}, Direction: store.AToB, ConfigSource: "settings", Status: store.StatusNew}
	if err := tb.store.CreateMirror(ctx, m); err != nil {
		t.Fatal(err)
	}
	return m
}
