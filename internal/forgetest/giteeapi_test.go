package forgetest

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/gitee"
)

// giteeClient is the real Gitee client on the forge, with fast retries.
func giteeClient(t *testing.T, f *Forge, token string) *gitee.Client {
	t.Helper()
	c, err := gitee.New(gitee.Config{
		BaseURL: f.GiteeAPIURL(),
		Token:   token,
		Retry:   gitee.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func names(repos []*forge.Repo) []string {
	out := make([]string, len(repos))
	for i, r := range repos {
		out[i] = r.FullName()
	}
	slices.Sort(out)
	return out
}

func wantClass(t *testing.T, what string, err error, class failure.Class) {
	t.Helper()
	if got := failure.ClassOf(err); got != class {
		t.Errorf("%s: class %q (%v), want %q", what, got, err, class)
	}
}

func TestGiteeListPagination(t *testing.T) {
	t.Parallel()
	f := apiForge(t)
	var want []string
	for i := range 250 {
		name := fmt.Sprintf("r%03d", i)
		f.SetRepo("acme", name, RepoMeta{Private: i%50 == 0})
		want = append(want, "acme/"+name)
	}
	ctx := context.Background()
	f.ResetAPIStats()
	repos, err := giteeClient(t, f, apiAliceToken).ListRepos(ctx, "acme", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := names(repos); !slices.Equal(got, want) {
		t.Fatalf("listed %d repositories, want %d", len(got), len(want))
	}
	s := f.APIStats().Endpoints
	if s["gitee GET /orgs/{org}"] != 1 || s["gitee GET /orgs/{org}/repos"] != 3 {
		t.Errorf("requests: %v; want one org lookup and three pages", s)
	}

	// carol sees only public repositories.
	repos, err = giteeClient(t, f, apiCarolToken).ListRepos(ctx, "acme", forge.Org)
	if err != nil {
		t.Fatal(err)
	}
	if len(repos) != 245 {
		t.Errorf("carol lists %d repositories, want the 245 public ones", len(repos))
	}

	// Defaults and caps as Gitee documents them.
	var page []map[string]any
	resp := apiGet(t, f.GiteeAPIURL()+"/orgs/acme/repos?access_token="+apiAliceToken, "", &page)
	if len(page) != 20 || resp.Header.Get("total_count") != "250" || resp.Header.Get("total_page") != "13" {
		t.Errorf("default page: %d items, total_count %q, total_page %q", len(page), resp.Header.Get("total_count"), resp.Header.Get("total_page"))
	}
	resp = apiGet(t, f.GiteeAPIURL()+"/orgs/acme/repos?per_page=500&page=3&access_token="+apiAliceToken, "", &page)
	if len(page) != 50 || resp.Header.Get("total_page") != "3" {
		t.Errorf("per_page=500 page 3: %d items, total_page %q; want 50 and 3", len(page), resp.Header.Get("total_page"))
	}
	resp = apiGet(t, f.GiteeAPIURL()+"/orgs/acme/repos?page=9&per_page=100", "", &page)
	if resp.StatusCode != 200 || len(page) != 0 {
		t.Errorf("page past the end: %d, %d items", resp.StatusCode, len(page))
	}
}

func TestGiteeUserAndKinds(t *testing.T) {
	t.Parallel()
	f := apiForge(t)
	f.SetRepo("alice", "pub", RepoMeta{Description: "public one"})
	f.SetRepo("alice", "priv", RepoMeta{Private: true})
	f.SetRepo("bob", "pub", RepoMeta{})
	f.SetRepo("bob", "priv", RepoMeta{Private: true})
	f.SetRepo("ent", "inner", RepoMeta{Internal: true})
	f.SetRepo("ent", "open", RepoMeta{})
	ctx := context.Background()
	alice := giteeClient(t, f, apiAliceToken)

	u, err := alice.User(ctx)
	if err != nil || u.Login != "alice" || u.ID == 0 {
		t.Fatalf("User = %+v, %v", u, err)
	}
	if cred := alice.GitCredentials(); cred.Username != "alice" {
		t.Errorf("GitCredentials after User: %+v", cred)
	}
	own, err := alice.ListRepos(ctx, "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := names(own); !slices.Equal(got, []string{"alice/priv", "alice/pub"}) {
		t.Errorf("alice's own repositories = %v", got)
	}
	other, err := alice.ListRepos(ctx, "bob", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := names(other); !slices.Equal(got, []string{"bob/pub"}) {
		t.Errorf("bob's repositories seen by alice = %v, want the public one", got)
	}
	ent, err := alice.ListRepos(ctx, "ent", forge.Enterprise)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(ent); !slices.Equal(got, []string{"ent/inner", "ent/open"}) {
		t.Errorf("enterprise repositories = %v", got)
	}
	r, err := alice.GetRepo(ctx, "alice", "pub")
	if err != nil || r.Description != "public one" || r.DefaultBranch != "main" || r.Private || r.CloneURL != f.GitURL("alice", "pub") {
		t.Errorf("GetRepo = %+v, %v", r, err)
	}

	// The raw shape of a repository.
	var raw map[string]any
	apiGet(t, f.GiteeAPIURL()+"/repos/ent/inner?access_token="+apiAliceToken, "", &raw)
	ns, _ := raw["namespace"].(map[string]any)
	if raw["full_name"] != "ent/inner" || raw["path"] != "inner" || raw["status"] != "开始" ||
		raw["internal"] != true || raw["public"] != false || ns["type"] != "enterprise" || ns["path"] != "ent" {
		t.Errorf("repository JSON: %v", raw)
	}

	_, err = giteeClient(t, f, apiCarolToken).GetRepo(ctx, "bob", "priv")
	wantClass(t, "another user's private repository", err, failure.NotFound)
	_, err = alice.ListRepos(ctx, "nobody", "")
	wantClass(t, "unknown account", err, failure.NotFound)
}

func TestGiteeErrors(t *testing.T) {
	t.Parallel()
	f := apiForge(t)
	f.SetRepo("acme", "shared", RepoMeta{Private: true})
	ctx := context.Background()

	_, err := giteeClient(t, f, "no-such-token").User(ctx)
	wantClass(t, "bad token", err, failure.Auth)
	var body map[string]string
	resp := apiGet(t, f.GiteeAPIURL()+"/user", "", &body)
	if resp.StatusCode != 401 || body["message"] != giteeNoToken {
		t.Errorf("GET /user without a token: %d %v", resp.StatusCode, body)
	}
	resp = apiGet(t, f.GiteeAPIURL()+"/repos/acme/shared", "", &body)
	if resp.StatusCode != 404 || body["message"] != giteeNoProject {
		t.Errorf("anonymous GET of a private repository: %d %v", resp.StatusCode, body)
	}

	carol := giteeClient(t, f, apiCarolToken)
	if _, err := carol.GetRepo(ctx, "acme", "shared"); err != nil {
		t.Errorf("carol reads acme/shared: %v", err)
	}
	err = carol.UpdateRepo(ctx, "acme", "shared", forge.RepoUpdate{Description: "x"})
	wantClass(t, "update by a reader", err, failure.Permission)
	_, err = carol.CreateRepo(ctx, forge.CreateOptions{Owner: "acme", OwnerKind: forge.Org, Name: "new"})
	wantClass(t, "create in an organisation without Write", err, failure.Permission)

	alice := giteeClient(t, f, apiAliceToken)
	_, err = alice.CreateRepo(ctx, forge.CreateOptions{Owner: "acme", Name: "shared"})
	wantClass(t, "create an existing repository", err, failure.Invalid)
	err = alice.UpdateRepo(ctx, "acme", "shared", forge.RepoUpdate{DefaultBranch: "nope"})
	wantClass(t, "default branch that does not exist", err, failure.Invalid)

	f.APIFailNext(2, http.StatusServiceUnavailable)
	if _, err := alice.GetRepo(ctx, "acme", "shared"); err != nil {
		t.Errorf("GetRepo after two 503s (retried): %v", err)
	}
	f.APIFailNext(5, http.StatusBadGateway)
	_, err = alice.GetRepo(ctx, "acme", "shared")
	wantClass(t, "GetRepo through 502s", err, failure.Network)
	f.APIFailNext(0, 0)
	f.APIFailNext(1, http.StatusTooManyRequests)
	f.APIFailNext(5, http.StatusTooManyRequests)
	_, err = alice.GetRepo(ctx, "acme", "shared")
	wantClass(t, "GetRepo through 429s", err, failure.RateLimited)
}

func TestGiteeCreatePushUpdate(t *testing.T) {
	t.Parallel()
	f := apiForge(t, RequireLoginAsUsername())
	ctx := context.Background()
	alice := giteeClient(t, f, apiAliceToken)

	for _, tc := range []struct {
		opts    forge.CreateOptions
		private bool
		inner   bool
	}{
		{forge.CreateOptions{Name: "mine", Description: "my own"}, true, false},
		{forge.CreateOptions{Name: "open", Visibility: forge.Public}, false, false},
		{forge.CreateOptions{Owner: "acme", Name: "org-priv"}, true, false},
		{forge.CreateOptions{Owner: "acme", OwnerKind: forge.Org, Name: "org-pub", Visibility: forge.Public, Homepage: "https://example.com"}, false, false},
		{forge.CreateOptions{Owner: "acme", OwnerKind: forge.Org, Name: "org-inner", Visibility: forge.Internal}, true, true},
		{forge.CreateOptions{Owner: "ent", OwnerKind: forge.Enterprise, Name: "ent-pub", Visibility: forge.Public}, false, false},
		{forge.CreateOptions{Owner: "ent", OwnerKind: forge.Enterprise, Name: "ent-inner", Visibility: forge.Internal}, true, true},
	} {
		r, err := alice.CreateRepo(ctx, tc.opts)
		if err != nil {
			t.Errorf("CreateRepo %+v: %v", tc.opts, err)
			continue
		}
		owner := tc.opts.Owner
		if owner == "" {
			owner = "alice"
		}
		if r.Owner != owner || r.Name != tc.opts.Name || r.CloneURL != f.GitURL(owner, tc.opts.Name) {
			t.Errorf("created %+v", r)
		}
		m, ok := f.RepoMeta(owner, tc.opts.Name)
		if !ok || m.Private != tc.private || m.Internal != tc.inner || m.Description != tc.opts.Description || m.Homepage != tc.opts.Homepage {
			t.Errorf("%s/%s: meta %+v, want private %v internal %v", owner, tc.opts.Name, m, tc.private, tc.inner)
		}
	}

	// The created repository accepts a push from its creator, and takes the
	// pushed branch as its default branch.
	oid := pushMain(t, f, "acme", "org-priv", "alice", apiAliceToken)
	if got := f.Refs("acme", "org-priv")["refs/heads/main"]; got != oid {
		t.Fatalf("pushed main = %s, want %s", got, oid)
	}
	r, err := alice.GetRepo(ctx, "acme", "org-priv")
	if err != nil || r.DefaultBranch != "main" {
		t.Errorf("after the first push: %+v, %v", r, err)
	}
	if err := alice.UpdateRepo(ctx, "acme", "org-priv", forge.RepoUpdate{Description: "mirrored", Homepage: "https://h.example"}); err != nil {
		t.Fatal(err)
	}
	w := NewWork(t)
	w.Commit("dev", nil)
	if err := w.Push(f.GitURL("acme", "org-priv"), "alice", apiAliceToken, "HEAD:refs/heads/dev"); err != nil {
		t.Fatal(err)
	}
	if err := alice.UpdateRepo(ctx, "acme", "org-priv", forge.RepoUpdate{DefaultBranch: "dev"}); err != nil {
		t.Fatal(err)
	}
	m, _ := f.RepoMeta("acme", "org-priv")
	if m.DefaultBranch != "dev" || m.Description != "mirrored" || m.Homepage != "https://h.example" || headBranch(f.RepoPath("acme", "org-priv")) != "dev" {
		t.Errorf("after UpdateRepo: %+v", m)
	}
	// Bob may not push into it, and does not see it.
	if err := NewWork(t).Push(f.GitURL("acme", "org-priv"), "bob", apiBobToken, "HEAD:refs/heads/x"); err == nil {
		t.Error("bob pushed into acme/org-priv")
	}
	_, err = giteeClient(t, f, apiBobToken).GetRepo(ctx, "acme", "org-priv")
	wantClass(t, "bob reads acme/org-priv", err, failure.NotFound)
}

func TestGiteeCreateFormAndJSON(t *testing.T) {
	t.Parallel()
	f := apiForge(t)
	// JSON bodies and auto_init, as other Gitee clients send them.
	resp, body := apiSend(t, http.MethodPost, f.GiteeAPIURL()+"/user/repos", "",
		`{"access_token":"`+apiAliceToken+`","name":"Init Me","path":"init-me","private":false,"auto_init":true}`)
	if resp.StatusCode != 201 || body["path"] != "init-me" || body["name"] != "Init Me" || body["private"] != false {
		t.Fatalf("create with JSON: %d %v", resp.StatusCode, body)
	}
	refs := f.Refs("alice", "init-me")
	if len(refs) != 1 || refs["refs/heads/master"] == "" {
		t.Errorf("auto_init refs = %v, want one commit on master", refs)
	}
	resp, body = apiSend(t, http.MethodPost, f.GiteeAPIURL()+"/user/repos", "", `{"access_token":"`+apiAliceToken+`"}`)
	if resp.StatusCode != 400 || body["message"] == nil {
		t.Errorf("create without a name: %d %v", resp.StatusCode, body)
	}
	resp, body = apiSend(t, http.MethodPatch, f.GiteeAPIURL()+"/repos/alice/init-me", "",
		`{"access_token":"`+apiAliceToken+`","description":"x"}`)
	if resp.StatusCode != 400 {
		t.Errorf("PATCH without name (required by Gitee's docs): %d %v", resp.StatusCode, body)
	}
	resp, body = apiSend(t, http.MethodPatch, f.GiteeAPIURL()+"/repos/alice/init-me", "",
		`{"access_token":"`+apiAliceToken+`","name":"Renamed","private":true}`)
	if resp.StatusCode != 200 || body["name"] != "Renamed" || body["private"] != true || body["human_name"] != "alice/Renamed" {
		t.Errorf("PATCH name and private: %d %v", resp.StatusCode, body)
	}
	var list []map[string]any
	resp = apiGet(t, f.GiteeAPIURL()+"/user/repos?visibility=public&access_token="+apiAliceToken, "", &list)
	if resp.StatusCode != 200 || len(list) != 0 {
		t.Errorf("public repositories after making the only one private: %v", list)
	}
	resp = apiGet(t, f.GiteeAPIURL()+"/user/repos?visibility=private&access_token="+apiAliceToken, "", &list)
	if len(list) != 1 || resp.Header.Get("total_count") != strconv.Itoa(1) {
		t.Errorf("private repositories: %v", list)
	}
}
