package forgetest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Tokens of the API tests' accounts.
const (
	apiAliceToken = "api-tok-alice" // owns alice/*, writes acme/* and ent/*
	apiBobToken   = "api-tok-bob"   // owns bob/*
	apiCarolToken = "api-tok-carol" // reads acme/shared only
)

// apiForge is a forge with users alice, bob and carol, organisation acme and
// enterprise ent. alice may write everything of alice, acme and ent; bob
// everything of bob; carol reads acme/shared.
func apiForge(t *testing.T, opts ...Option) *Forge {
	t.Helper()
	f := New(t, opts...)
	f.AddUser("alice", apiAliceToken)
	f.AddUser("bob", apiBobToken)
	f.AddUser("carol", apiCarolToken)
	f.AddOrg("acme")
	f.AddEnterprise("ent")
	f.Grant("alice", "alice", "*", Write)
	f.Grant("alice", "acme", "*", Write)
	f.Grant("alice", "ent", "*", Write)
	f.Grant("bob", "bob", "*", Write)
	f.Grant("carol", "acme", "shared", Read)
	return f
}

// apiGet makes a GET to the forge with an optional Authorization header and
// decodes a JSON answer into out (when not nil).
func apiGet(t *testing.T, url, auth string, out any) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("GET %s: %v in %s", url, err, body)
		}
	}
	return resp
}

// pushMain commits one file and pushes it to branch main of owner/name.
func pushMain(t *testing.T, f *Forge, owner, name, login, token string) string {
	t.Helper()
	w := NewWork(t)
	oid := w.Commit("content of "+name, map[string]string{"README": name + "\n"})
	if err := w.Push(f.GitURL(owner, name), login, token, "HEAD:refs/heads/main"); err != nil {
		t.Fatal(err)
	}
	return oid
}

func TestRepoMetaDefaultsAndHead(t *testing.T) {
	t.Parallel()
	f := apiForge(t)
	f.CreateRepo("alice", "plain")
	m, ok := f.RepoMeta("alice", "plain")
	if !ok || m != (RepoMeta{DefaultBranch: "main"}) {
		t.Fatalf("RepoMeta of a CreateRepo repository = %+v, %v; want public, main", m, ok)
	}
	if _, ok := f.RepoMeta("alice", "none"); ok {
		t.Error("RepoMeta of a missing repository: ok")
	}

	f.SetRepo("alice", "set", RepoMeta{Description: "d", DefaultBranch: "trunk", Private: true, Fork: true})
	m, _ = f.RepoMeta("alice", "set")
	if want := (RepoMeta{Description: "d", DefaultBranch: "trunk", Private: true, Fork: true}); m != want {
		t.Errorf("RepoMeta = %+v, want %+v", m, want)
	}
	if got := headBranch(f.RepoPath("alice", "set")); got != "trunk" {
		t.Errorf("HEAD -> %q, want trunk", got)
	}
	// An empty DefaultBranch leaves HEAD alone; Internal implies Private.
	f.SetRepo("alice", "set", RepoMeta{Internal: true})
	if m, _ = f.RepoMeta("alice", "set"); m.DefaultBranch != "trunk" || !m.Private || !m.Internal {
		t.Errorf("after SetRepo without a branch: %+v", m)
	}
}

func TestArchivedRefusesPush(t *testing.T) {
	t.Parallel()
	f := apiForge(t)
	f.SetRepo("alice", "old", RepoMeta{Archived: true})
	w := NewWork(t)
	w.Commit("c", nil)
	err := w.Push(f.GitURL("alice", "old"), "alice", apiAliceToken, "HEAD:refs/heads/main")
	if err == nil || !strings.Contains(err.Error(), archivedMessage) {
		t.Fatalf("push to an archived repository: %v", err)
	}
	f.SetRepo("alice", "old", RepoMeta{})
	if err := w.Push(f.GitURL("alice", "old"), "alice", apiAliceToken, "HEAD:refs/heads/main"); err != nil {
		t.Fatalf("push after unarchiving: %v", err)
	}
}

func TestAccountsAcrossAPIs(t *testing.T) {
	t.Parallel()
	f := apiForge(t)
	f.CreateRepo("dave", "x") // an owner with no token is still a user
	for _, tc := range []struct {
		path string
		code int
		typ  string
	}{
		{"/api/v3/users/alice", 200, "User"},
		{"/api/v3/users/dave", 200, "User"},
		{"/api/v3/users/acme", 200, "Organization"},
		{"/api/v3/users/ent", 404, ""},
		{"/api/v3/users/nobody", 404, ""},
		{"/api/v3/orgs/acme", 200, "Organization"},
		{"/api/v3/orgs/alice", 404, ""},
		{"/api/v5/users/alice", 200, "User"},
		{"/api/v5/users/acme", 404, ""},
		{"/api/v5/orgs/acme", 200, ""},
		{"/api/v5/orgs/alice", 404, ""},
		{"/api/v5/enterprises/ent", 200, ""},
		{"/api/v5/enterprises/acme", 404, ""},
	} {
		var body map[string]any
		resp := apiGet(t, f.BaseURL()+tc.path, "", &body)
		if resp.StatusCode != tc.code {
			t.Errorf("GET %s = %d %v, want %d", tc.path, resp.StatusCode, body, tc.code)
			continue
		}
		if tc.typ != "" && body["type"] != tc.typ {
			t.Errorf("GET %s: type %v, want %s", tc.path, body["type"], tc.typ)
		}
		if tc.code == 404 && body["message"] == nil {
			t.Errorf("GET %s: 404 without a message: %v", tc.path, body)
		}
	}
	if got := f.GitHubAPIURL(); got != f.BaseURL()+"/api/v3/" {
		t.Errorf("GitHubAPIURL = %q", got)
	}
	if got := f.GiteeAPIURL(); got != f.BaseURL()+"/api/v5" {
		t.Errorf("GiteeAPIURL = %q", got)
	}
}

func TestAPIStatsAndFailNext(t *testing.T) {
	t.Parallel()
	f := apiForge(t)
	f.CreateRepo("alice", "r")
	f.APIFailNext(2, http.StatusBadGateway)
	for i, want := range []int{502, 502, 200} {
		var body map[string]any
		resp := apiGet(t, f.GiteeAPIURL()+"/repos/alice/r", "", &body)
		if resp.StatusCode != want {
			t.Errorf("request %d: %d, want %d", i, resp.StatusCode, want)
		}
		if want == 502 && body["message"] != "Bad Gateway" {
			t.Errorf("request %d: body %v", i, body)
		}
	}
	apiGet(t, f.GitHubAPIURL()+"repos/alice/r", "", nil)
	apiGet(t, f.GitHubAPIURL()+"no/such/route", "", nil)
	s := f.APIStats()
	want := map[string]int{
		"gitee GET /repos/{owner}/{repo}":  3,
		"github GET /repos/{owner}/{repo}": 1,
		"github unknown":                   1,
	}
	if s.Gitee != 3 || s.GitHub != 2 || fmt.Sprint(s.Endpoints) != fmt.Sprint(want) {
		t.Errorf("APIStats = %+v, want 3 Gitee, 2 GitHub, %v", s, want)
	}
	if git := f.Stats(); git != (Stats{}) {
		t.Errorf("API requests counted as Git requests: %+v", git)
	}
	f.ResetAPIStats()
	if s := f.APIStats(); s.Gitee != 0 || s.GitHub != 0 || len(s.Endpoints) != 0 {
		t.Errorf("after ResetAPIStats: %+v", s)
	}
	f.SetLatency(60 * time.Millisecond)
	start := time.Now()
	apiGet(t, f.GitHubAPIURL()+"repos/alice/r", "", nil)
	if d := time.Since(start); d < 60*time.Millisecond {
		t.Errorf("API request with 60ms latency took %v", d)
	}
}

func TestOrgAfterItsRepositories(t *testing.T) {
	t.Parallel()
	f := New(t)
	f.SetRepo("late", "r", RepoMeta{})
	f.RepoMeta("late", "r") // the owner is taken for a user until AddOrg
	f.AddOrg("late")
	var body map[string]any
	apiGet(t, f.GitHubAPIURL()+"users/late", "", &body)
	if body["type"] != "Organization" {
		t.Errorf("GET /users/late: %v", body)
	}
}

// apiSend sends a request with a JSON body and decodes a JSON object answer.
func apiSend(t *testing.T, method, url, auth, body string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, url, err, raw)
		}
	}
	return resp, out
}
