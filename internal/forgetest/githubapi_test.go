package forgetest

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/githubapp"
)

// githubClient is the real GitHub client on the forge, with fast retries.
func githubClient(t *testing.T, f *Forge, token string) *githubapp.Client {
	t.Helper()
	c, err := githubapp.NewWithToken(token, githubapp.Options{
		APIURL: f.GitHubAPIURL(), GitURL: f.BaseURL(), Retries: 2, RetryBase: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestGitHubListPagination(t *testing.T) {
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
	repos, err := githubClient(t, f, apiAliceToken).ListRepos(ctx, "acme", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := names(repos); !slices.Equal(got, want) {
		t.Fatalf("listed %d repositories, want %d", len(got), len(want))
	}
	s := f.APIStats().Endpoints
	if s["github GET /users/{username}"] != 1 || s["github GET /orgs/{org}/repos"] != 3 {
		t.Errorf("requests: %v; want one account lookup and three pages", s)
	}
	repos, err = githubClient(t, f, apiCarolToken).ListRepos(ctx, "acme", forge.Org)
	if err != nil || len(repos) != 245 {
		t.Errorf("carol lists %d repositories (%v), want the 245 public ones", len(repos), err)
	}

	// Link headers exactly as GitHub writes them, by organisation id.
	acc, _ := f.lookupAccount("acme")
	base := fmt.Sprintf("%sorganizations/%d/repos", f.GitHubAPIURL(), acc.id)
	auth := "Bearer " + apiAliceToken
	var page []map[string]any
	resp := apiGet(t, f.GitHubAPIURL()+"orgs/acme/repos?per_page=100", auth, &page)
	wantLink := fmt.Sprintf(`<%s?per_page=100&page=2>; rel="next", <%s?per_page=100&page=3>; rel="last"`, base, base)
	if got := resp.Header.Get("Link"); got != wantLink {
		t.Errorf("page 1 Link:\n got %s\nwant %s", got, wantLink)
	}
	if len(page) != 100 || page[0]["name"] != "r249" {
		t.Errorf("page 1: %d items, first %v; want the newest first", len(page), page[0]["name"])
	}
	resp = apiGet(t, base+"?per_page=100&page=2", auth, &page)
	wantLink = fmt.Sprintf(`<%s?per_page=100&page=1>; rel="prev", <%s?per_page=100&page=3>; rel="next", <%s?per_page=100&page=3>; rel="last", <%s?per_page=100&page=1>; rel="first"`, base, base, base, base)
	if got := resp.Header.Get("Link"); got != wantLink || len(page) != 100 {
		t.Errorf("page 2 through the id link: %d items, Link:\n got %s\nwant %s", len(page), got, wantLink)
	}
	resp = apiGet(t, f.GitHubAPIURL()+"orgs/acme/repos?page=9&per_page=100&sort=full_name", auth, &page)
	if len(page) != 0 || !strings.Contains(resp.Header.Get("Link"), `rel="prev"`) {
		t.Errorf("past the end: %d items, Link %q", len(page), resp.Header.Get("Link"))
	}
	resp = apiGet(t, f.GitHubAPIURL()+"orgs/acme/repos?sort=full_name", auth, &page)
	if len(page) != 30 || page[0]["name"] != "r000" || !strings.Contains(resp.Header.Get("Link"), `page=9>; rel="last"`) {
		t.Errorf("default page: %d items from %v, Link %q", len(page), page[0]["name"], resp.Header.Get("Link"))
	}
}

func TestGitHubAccountsAndVisibility(t *testing.T) {
	t.Parallel()
	f := apiForge(t)
	f.SetRepo("alice", "pub", RepoMeta{Description: "d", Homepage: "https://h"})
	f.SetRepo("alice", "priv", RepoMeta{Private: true})
	f.SetRepo("bob", "pub", RepoMeta{})
	f.SetRepo("bob", "priv", RepoMeta{Private: true})
	f.SetRepo("acme", "fork", RepoMeta{Fork: true, Archived: true})
	ctx := context.Background()
	alice := githubClient(t, f, apiAliceToken)

	for owner, want := range map[string]forge.AccountKind{"alice": forge.User, "bob": forge.User, "acme": forge.Org} {
		if got, err := alice.AccountKind(ctx, owner); err != nil || got != want {
			t.Errorf("AccountKind(%s) = %q, %v; want %q", owner, got, err, want)
		}
	}
	_, err := alice.AccountKind(ctx, "ent")
	wantClass(t, "AccountKind of a Gitee enterprise", err, failure.NotFound)
	if login, err := alice.Login(ctx); err != nil || login != "alice" {
		t.Errorf("Login = %q, %v", login, err)
	}

	own, err := alice.ListRepos(ctx, "alice", "")
	if err != nil || !slices.Equal(names(own), []string{"alice/priv", "alice/pub"}) {
		t.Errorf("alice's own repositories = %v, %v", names(own), err)
	}
	other, err := alice.ListRepos(ctx, "bob", forge.User)
	if err != nil || !slices.Equal(names(other), []string{"bob/pub"}) {
		t.Errorf("bob's repositories seen by alice = %v, %v", names(other), err)
	}
	r, err := alice.GetRepo(ctx, "acme", "fork")
	if err != nil || !r.Fork || !r.Archived || r.DefaultBranch != "main" || r.CloneURL != f.GitURL("acme", "fork") {
		t.Errorf("GetRepo(acme/fork) = %+v, %v", r, err)
	}
	_, err = alice.GetRepo(ctx, "bob", "priv")
	wantClass(t, "another user's private repository", err, failure.NotFound)

	// Anonymous requests see public data only; the raw shape.
	var raw map[string]any
	resp := apiGet(t, f.GitHubAPIURL()+"repos/alice/pub", "", &raw)
	owner, _ := raw["owner"].(map[string]any)
	if resp.StatusCode != 200 || raw["full_name"] != "alice/pub" || raw["visibility"] != "public" || raw["description"] != "d" ||
		raw["homepage"] != "https://h" || owner["type"] != "User" || raw["node_id"] == "" || raw["pushed_at"] != nil || raw["permissions"] != nil {
		t.Errorf("anonymous GET /repos/alice/pub: %d %v", resp.StatusCode, raw)
	}
	resp = apiGet(t, f.GitHubAPIURL()+"repos/alice/priv", "", &raw)
	if resp.StatusCode != 404 || raw["message"] != "Not Found" || raw["documentation_url"] == nil {
		t.Errorf("anonymous GET of a private repository: %d %v", resp.StatusCode, raw)
	}
	resp = apiGet(t, f.GitHubAPIURL()+"user", "", &raw)
	if resp.StatusCode != 401 || raw["message"] != "Requires authentication" {
		t.Errorf("anonymous GET /user: %d %v", resp.StatusCode, raw)
	}
	resp = apiGet(t, f.GitHubAPIURL()+"repos/alice/pub", "token nope", &raw)
	if resp.StatusCode != 401 || raw["message"] != "Bad credentials" {
		t.Errorf("bad token: %d %v", resp.StatusCode, raw)
	}
	var list []map[string]any
	apiGet(t, f.GitHubAPIURL()+"user/repos?visibility=private", "token "+apiAliceToken, &list)
	if len(list) != 1 || list[0]["name"] != "priv" || list[0]["private"] != true {
		t.Errorf("GET /user/repos?visibility=private: %v", list)
	}
}

func TestGitHubInstallation(t *testing.T) {
	t.Parallel()
	f := apiForge(t)
	f.SetRepo("acme", "a", RepoMeta{Private: true})
	f.SetRepo("acme", "b", RepoMeta{Private: true})
	f.SetRepo("bob", "priv", RepoMeta{Private: true})
	f.AddInstallationToken("ghs_selected", 7, "acme/a", "bob/priv")
	f.AddInstallationToken("ghs_all", 8, "acme/*")
	ctx := context.Background()

	sel := githubClient(t, f, "ghs_selected")
	repos, err := sel.ListInstallationRepos(ctx)
	if err != nil || !slices.Equal(names(repos), []string{"acme/a", "bob/priv"}) {
		t.Errorf("ListInstallationRepos = %v, %v", names(repos), err)
	}
	var body map[string]any
	apiGet(t, f.GitHubAPIURL()+"installation/repositories", "token ghs_selected", &body)
	if body["total_count"] != float64(2) || body["repository_selection"] != "selected" {
		t.Errorf("installation/repositories: %v", body)
	}
	_, err = sel.Login(ctx)
	wantClass(t, "Login with an installation token", err, failure.Permission)
	_, err = sel.GetRepo(ctx, "acme", "b")
	wantClass(t, "uncovered private repository", err, failure.NotFound)
	_, err = sel.CreateRepo(ctx, forge.CreateOptions{Owner: "bob", OwnerKind: forge.User, Name: "new"})
	wantClass(t, "personal repository with an installation token", err, failure.Permission)
	_, err = sel.CreateRepo(ctx, forge.CreateOptions{Owner: "acme", OwnerKind: forge.Org, Name: "new"})
	wantClass(t, "organisation repository without an all-repositories installation", err, failure.Permission)
	_, err = githubClient(t, f, apiAliceToken).ListInstallationRepos(ctx)
	wantClass(t, "installation repositories with a user token", err, failure.Permission)

	all := githubClient(t, f, "ghs_all")
	created, err := all.CreateRepo(ctx, forge.CreateOptions{Owner: "acme", OwnerKind: forge.Org, Name: "made", Visibility: forge.Private})
	if err != nil || !created.Private || !created.Empty {
		t.Fatalf("CreateRepo by an installation = %+v, %v", created, err)
	}
	pushMain(t, f, "acme", "made", githubapp.GitUsername, "ghs_all")
	if err := pushNew(t, f, "acme", "b", githubapp.GitUsername, "ghs_selected"); err == nil {
		t.Error("push to a repository the installation does not cover")
	}
	if err := all.UpdateRepo(ctx, "acme", "made", forge.RepoUpdate{Description: "by the app"}); err != nil {
		t.Error(err)
	}
	f.RevokeToken("ghs_all")
	_, err = all.GetRepo(ctx, "acme", "made")
	wantClass(t, "revoked installation token", err, failure.Auth)
}

// pushNew pushes a new branch "probe" to owner/name and returns the push's
// error.
func pushNew(t *testing.T, f *Forge, owner, name, login, token string) error {
	t.Helper()
	w := NewWork(t)
	w.Commit("x", nil)
	return w.Push(f.GitURL(owner, name), login, token, "HEAD:refs/heads/probe")
}

func TestGitHubCreatePushUpdate(t *testing.T) {
	t.Parallel()
	f := apiForge(t)
	ctx := context.Background()
	alice := githubClient(t, f, apiAliceToken)

	org, err := alice.CreateRepo(ctx, forge.CreateOptions{Owner: "acme", Name: "target", Description: "from gitee"})
	if err != nil || org.FullName() != "acme/target" || !org.Private || org.Description != "from gitee" {
		t.Fatalf("CreateRepo in acme = %+v, %v", org, err)
	}
	mine, err := alice.CreateRepo(ctx, forge.CreateOptions{Owner: "alice", Name: "mine", Visibility: forge.Public})
	if err != nil || mine.Private || mine.DefaultBranch != "main" {
		t.Fatalf("CreateRepo for alice = %+v, %v", mine, err)
	}
	_, err = alice.CreateRepo(ctx, forge.CreateOptions{Owner: "acme", OwnerKind: forge.Org, Name: "target"})
	wantClass(t, "create an existing repository", err, failure.Invalid)
	if err == nil || !strings.Contains(err.Error(), "name already exists on this account") {
		t.Errorf("error for an existing name: %v", err)
	}
	_, err = githubClient(t, f, apiCarolToken).CreateRepo(ctx, forge.CreateOptions{Owner: "acme", OwnerKind: forge.Org, Name: "c"})
	wantClass(t, "create in an organisation without Write", err, failure.Permission)

	oid := pushMain(t, f, "acme", "target", githubapp.GitUsername, apiAliceToken)
	if got := f.Refs("acme", "target")["refs/heads/main"]; got != oid {
		t.Fatalf("pushed main = %s, want %s", got, oid)
	}
	err = alice.UpdateRepo(ctx, "acme", "target", forge.RepoUpdate{DefaultBranch: "nope"})
	wantClass(t, "default branch that does not exist", err, failure.Invalid)
	w := NewWork(t)
	w.Commit("dev", nil)
	if err := w.Push(f.GitURL("acme", "target"), "x", apiAliceToken, "HEAD:refs/heads/dev"); err != nil {
		t.Fatal(err)
	}
	if err := alice.UpdateRepo(ctx, "acme", "target", forge.RepoUpdate{DefaultBranch: "dev", Homepage: "https://h"}); err != nil {
		t.Fatal(err)
	}
	if m, _ := f.RepoMeta("acme", "target"); m.DefaultBranch != "dev" || m.Homepage != "https://h" || m.Description != "from gitee" {
		t.Errorf("after UpdateRepo: %+v", m)
	}
	f.Grant("carol", "acme", "target", Read)
	err = githubClient(t, f, apiCarolToken).UpdateRepo(ctx, "acme", "target", forge.RepoUpdate{Description: "x"})
	wantClass(t, "update by a reader", err, failure.Permission)

	// auto_init makes one commit with a README on main, as GitHub does.
	gh := alice.API()
	r, _, err := gh.Repositories.Create(ctx, "acme", &github.Repository{Name: github.String("with readme"), AutoInit: github.Bool(true)})
	if err != nil || r.GetName() != "with-readme" || r.GetSize() == 0 {
		t.Fatalf("create with auto_init = %+v, %v", r, err)
	}
	clone, err := Clone(t, f.GitURL("acme", "with-readme"), "x", apiAliceToken)
	if err != nil {
		t.Fatal(err)
	}
	if log := clone.Run("log", "--format=%s", "main"); log != "Initial commit" {
		t.Errorf("auto_init history: %q", log)
	}
	if files := clone.Run("ls-files"); files != "README.md" {
		t.Errorf("auto_init files: %q", files)
	}

	// Archiving makes the repository read-only, over Git and the API.
	if _, _, err := gh.Repositories.Edit(ctx, "acme", "target", &github.Repository{Archived: github.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if err := pushNew(t, f, "acme", "target", "x", apiAliceToken); err == nil || !strings.Contains(err.Error(), "archived") {
		t.Errorf("push to an archived repository: %v", err)
	}
	_, resp, err := gh.Repositories.Edit(ctx, "acme", "target", &github.Repository{Description: github.String("y")})
	if resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("editing an archived repository: %v", err)
	}
}

func TestGitHubErrors(t *testing.T) {
	t.Parallel()
	f := apiForge(t)
	f.SetRepo("acme", "r", RepoMeta{})
	ctx := context.Background()
	_, err := githubClient(t, f, "nope").GetRepo(ctx, "acme", "r")
	wantClass(t, "bad token", err, failure.Auth)
	alice := githubClient(t, f, apiAliceToken)
	_, err = alice.GetRepo(ctx, "acme", "none")
	wantClass(t, "missing repository", err, failure.NotFound)

	f.APIFailNext(2, http.StatusBadGateway)
	if _, err := alice.GetRepo(ctx, "acme", "r"); err != nil {
		t.Errorf("GetRepo after two 502s (retried): %v", err)
	}
	f.APIFailNext(5, http.StatusServiceUnavailable)
	_, err = alice.GetRepo(ctx, "acme", "r")
	wantClass(t, "GetRepo through 503s", err, failure.Network)
	f.APIFailNext(0, 0)

	resp, body := apiSend(t, http.MethodPost, f.GitHubAPIURL()+"orgs/acme/repos", "Bearer "+apiAliceToken, `{"description":"no name"}`)
	errs, _ := body["errors"].([]any)
	if resp.StatusCode != 422 || body["message"] != "Repository creation failed." || len(errs) != 1 {
		t.Errorf("create without a name: %d %v", resp.StatusCode, body)
	}
	resp, body = apiSend(t, http.MethodPost, f.GitHubAPIURL()+"orgs/nobody/repos", "Bearer "+apiAliceToken, `{"name":"x"}`)
	if resp.StatusCode != 404 {
		t.Errorf("create in a missing organisation: %d %v", resp.StatusCode, body)
	}
	resp, _ = apiSend(t, http.MethodPost, f.GitHubAPIURL()+"user/repos", "", `{"name":"x"}`)
	if resp.StatusCode != 401 {
		t.Errorf("anonymous create: %d", resp.StatusCode)
	}
}
