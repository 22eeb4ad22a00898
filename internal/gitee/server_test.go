package gitee

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// canary is the token every test client uses; it must never show up in an
// error. It holds characters that URL encoding changes.
const canary = "CANARY-t0ken+/=~secret"

// apiPrefix is where the fake API lives on the test server.
const apiPrefix = "/api/v5"

// fakeGitee is a test server for the OpenAPI. Every request must match a
// registered "METHOD /path" route (path without apiPrefix) and carry the
// token where the client promises to put it; anything else fails the test.
type fakeGitee struct {
	t   *testing.T
	srv *httptest.Server

	mu     sync.Mutex
	routes map[string]http.HandlerFunc
	hits   map[string]int
	forms  map[string][]url.Values // POST/PATCH/PUT bodies, without the token
	query  map[string][]url.Values // query strings, without the token
}

func newFake(t *testing.T) *fakeGitee {
	t.Helper()
	f := &fakeGitee{
		t:      t,
		routes: map[string]http.HandlerFunc{},
		hits:   map[string]int{},
		forms:  map[string][]url.Values{},
		query:  map[string][]url.Values{},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// handle registers a route such as "GET /repos/a/b".
func (f *fakeGitee) handle(route string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[route] = h
}

func (f *fakeGitee) serve(w http.ResponseWriter, r *http.Request) {
	t := f.t
	path, ok := strings.CutPrefix(r.URL.EscapedPath(), apiPrefix)
	route := r.Method + " " + path
	if !ok {
		t.Errorf("request outside the API: %s", route)
		http.Error(w, "outside the API", http.StatusTeapot)
		return
	}
	if got, want := r.Header.Get("User-Agent"), "gitee-mirror-test"; got != want {
		t.Errorf("%s: User-Agent = %q, want %q", route, got, want)
	}
	q := r.URL.Query()
	var form url.Values
	switch r.Method {
	case http.MethodGet, http.MethodDelete:
		if got := q.Get("access_token"); got != canary {
			t.Errorf("%s: access_token query = %q, want the token", route, got)
		}
		if b, _ := io.ReadAll(r.Body); len(b) != 0 {
			t.Errorf("%s: unexpected body %q", route, b)
		}
	default:
		if got, want := r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"; got != want {
			t.Errorf("%s: Content-Type = %q, want %q", route, got, want)
		}
		if q.Has("access_token") {
			t.Errorf("%s: token in the query of a %s", route, r.Method)
		}
		b, _ := io.ReadAll(r.Body)
		var err error
		if form, err = url.ParseQuery(string(b)); err != nil {
			t.Errorf("%s: body is not a form: %v", route, err)
		}
		if got := form.Get("access_token"); got != canary {
			t.Errorf("%s: access_token in body = %q, want the token", route, got)
		}
		form.Del("access_token")
	}
	q.Del("access_token")
	f.mu.Lock()
	h := f.routes[route]
	f.hits[route]++
	f.query[route] = append(f.query[route], q)
	if form != nil {
		f.forms[route] = append(f.forms[route], form)
	}
	f.mu.Unlock()
	if h == nil {
		t.Errorf("unexpected request: %s", route)
		http.Error(w, "unexpected request", http.StatusTeapot)
		return
	}
	h(w, r)
}

func (f *fakeGitee) hitCount(route string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[route]
}

func (f *fakeGitee) formsOf(route string) []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.forms[route]
}

func (f *fakeGitee) queriesOf(route string) []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.query[route]
}

// client returns a client of the fake with fast retries.
func (f *fakeGitee) client(t *testing.T, mods ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		BaseURL:   f.srv.URL + apiPrefix,
		Token:     canary,
		UserAgent: "gitee-mirror-test",
		Retry:     RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond},
	}
	for _, m := range mods {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// reply answers with a status and a JSON body.
func reply(status int, body any) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		if body != nil {
			_ = json.NewEncoder(w).Encode(body)
		}
	}
}

// sequence answers with each handler in turn, then keeps using the last.
func sequence(hs ...http.HandlerFunc) http.HandlerFunc {
	var mu sync.Mutex
	i := 0
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		h := hs[min(i, len(hs)-1)]
		i++
		mu.Unlock()
		h(w, r)
	}
}

// msg is a Gitee error body.
func msg(s string) map[string]string { return map[string]string{"message": s} }

// repoJSON is a repository as Gitee describes it.
func repoJSON(owner, path string) map[string]any {
	return map[string]any{
		"id":             1,
		"full_name":      owner + "/" + path,
		"human_name":     "Owner Name/" + strings.ToUpper(path),
		"path":           path,
		"name":           strings.ToUpper(path),
		"namespace":      map[string]any{"path": owner, "type": "personal"},
		"owner":          map[string]any{"login": owner},
		"description":    "desc of " + path,
		"homepage":       "https://example.com/" + path,
		"default_branch": "main",
		"private":        true,
		"public":         false,
		"fork":           false,
		"html_url":       "https://gitee.com/" + owner + "/" + path + ".git",
		"status":         "开始",
	}
}

// checkNoSecret fails when err's text carries the token in any encoding.
func checkNoSecret(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	s := err.Error()
	for _, form := range []string{canary, url.QueryEscape(canary), url.PathEscape(canary), "t0ken"} {
		if strings.Contains(s, form) {
			t.Errorf("error leaks the token (%q): %s", form, s)
		}
	}
}
