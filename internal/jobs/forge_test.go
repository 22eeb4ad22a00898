package jobs

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/forges"
	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/githubapp"
	"github.com/gitee-mirror/gitee-mirror/internal/secret"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/gitee-mirror/gitee-mirror/internal/store/sqlite"
)

// Names and secrets of the DefaultRunner tests.
const (
	appID      = 9
	ghOwner    = "octo"
	ghName     = "widget"
	giteeOrg   = "acme"
	giteeLogin = "acme-bot"
	giteeToken = "gitee-CANARY-0123456789abcdef"
	devLogin   = "octo-dev"
	devToken   = "dev-token-0123456789"
)

// runnerBundle is a DefaultRunner against a forgetest forge that plays both
// GitHub (octo/widget, with the App installed on octo) and Gitee
// (organisation acme), with a real store.
type runnerBundle struct {
	f      *forgetest.Forge
	st     *sqlite.Store
	runner *DefaultRunner
	work   *forgetest.Work // a clone to push to octo/widget
	repoID int64           // GitHub's id of octo/widget
}

func setupRunner(t *testing.T) *runnerBundle {
	t.Helper()
	ctx := context.Background()
	b := &runnerBundle{f: forgetest.New(t)}
	key := b.f.RegisterApp(appID, "gitee-mirror")
	b.f.SetRepo(ghOwner, ghName, forgetest.RepoMeta{Description: "Widgets for all", Private: true})
	b.f.AddInstallation(appID, installationID, ghOwner, ghOwner+"/*")
	b.f.AddUser(devLogin, devToken)
	b.f.Grant(devLogin, ghOwner, ghName, forgetest.Write)
	b.f.AddOrg(giteeOrg)
	b.f.AddUser(giteeLogin, giteeToken)
	b.f.Grant(giteeLogin, giteeOrg, "*", forgetest.Write)
	b.repoID = githubRepoID(t, b.f, ghOwner, ghName)

	secretKey := make([]byte, secret.KeySize)
	if _, err := rand.Read(secretKey); err != nil {
		t.Fatal(err)
	}
	box, err := secret.NewBox(secretKey)
	if err != nil {
		t.Fatal(err)
	}
	b.st, err = sqlite.Open(ctx, t.TempDir()+"/app.db", box)
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { _ = b.st.Close() })
	if err := b.st.UpsertInstallation(ctx, store.Installation{ID: installationID, Account: ghOwner, AccountType: "Organization"}); err != nil {
		t.Fatal(err)
	}
	if err := b.st.SetCredential(ctx, store.Credential{InstallationID: installationID, Login: giteeLogin, Token: giteeToken}); err != nil {
		t.Fatal(err)
	}
	at, err := githubapp.NewAppTransport(appID, key, githubapp.AppOptions{APIURL: b.f.GitHubAPIURL(), RetryBase: time.Millisecond})
	if err != nil {
		t.Fatalf("NewAppTransport: %v", err)
	}
	sites := forges.New(forges.Config{
		GitHubAPIURL: b.f.GitHubAPIURL(), GitHubGitURL: b.f.BaseURL(),
		GiteeAPIURL: b.f.GiteeAPIURL(), GiteeGitURL: b.f.BaseURL(),
		App: func() (*githubapp.AppTransport, error) { return at, nil },
	})
	b.runner, err = NewRunner(RunnerConfig{
		Store: b.st, Sites: sites,
		Logger:     testLogger(t),
		DetailsURL: func(m *store.Mirror) string { return fmt.Sprintf("https://app.example/mirrors/%d", m.ID) },
	})
	if err != nil {
		t.Fatalf("NewRunner: %v", err)
	}
	b.work = forgetest.NewWork(t)
	return b
}

// githubRepoID asks the fake GitHub API for a repository's id.
func githubRepoID(t *testing.T, f *forgetest.Forge, owner, name string) int64 {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.GitHubAPIURL()+"repos/"+owner+"/"+name, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "token "+devToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var repo struct{ ID int64 }
	if err := json.NewDecoder(resp.Body).Decode(&repo); err != nil || repo.ID == 0 {
		t.Fatalf("GET /repos/%s/%s: status %d, %v", owner, name, resp.StatusCode, err)
	}
	return repo.ID
}

// push moves branch to HEAD of the work tree, commits files on it and
// pushes it to GitHub.
func (b *runnerBundle) push(t *testing.T, branch string, files map[string]string) string {
	t.Helper()
	b.work.Branch(branch)
	sha := b.work.Commit("change "+branch, files)
	if err := b.work.Push(b.f.GitURL(ghOwner, ghName), devLogin, devToken, "refs/heads/"+branch+":refs/heads/"+branch); err != nil {
		t.Fatalf("push %s: %v", branch, err)
	}
	return sha
}

// giteeUpstream makes acme/upstream on the Gitee side with one commit on
// main holding files, and returns the commit.
func (b *runnerBundle) giteeUpstream(t *testing.T, files map[string]string) string {
	t.Helper()
	b.f.SetRepo(giteeOrg, "upstream", forgetest.RepoMeta{})
	w := forgetest.NewWork(t)
	w.Branch("main")
	sha := w.Commit("from gitee", files)
	if err := w.Push(b.f.GitURL(giteeOrg, "upstream"), giteeLogin, giteeToken, "refs/heads/main:refs/heads/main"); err != nil {
		t.Fatal(err)
	}
	return sha
}

// setFile commits path (removed when content is "") on main and pushes it.
func (b *runnerBundle) setFile(t *testing.T, path, content string) {
	t.Helper()
	b.work.Checkout("main")
	if content == "" {
		b.work.Run("rm", "-q", path)
		b.work.Commit("remove "+path, nil)
	} else {
		b.work.Commit("write "+path, map[string]string{path: content})
	}
	if err := b.work.Push(b.f.GitURL(ghOwner, ghName), devLogin, devToken, "refs/heads/main:refs/heads/main"); err != nil {
		t.Fatalf("push main: %v", err)
	}
}

// tokensWith are the tokens minted with perm at level (each for one
// repository: the forge refuses any other request).
func (b *runnerBundle) tokensWith(perm, level string) []forgetest.MintedToken {
	var out []forgetest.MintedToken
	for _, tok := range b.f.MintedTokens() {
		if tok.Permissions[perm] == level {
			out = append(out, tok)
		}
	}
	return out
}

// mirror stores a mirror of octo/widget to acme/<name>.
func (b *runnerBundle) mirror(t *testing.T, name string, dir store.Direction) *store.Mirror {
	t.Helper()
	m := &store.Mirror{InstallationID: installationID, GitHubRepoID: b.repoID, A: store.Side{Owner: ghOwner, Name: ghName},
		B: store.Side{Owner: giteeOrg, Name: name}, Direction: dir, Prune: true, CreateMissing: true,
		Visibility: "source", ConfigSource: store.SourceSettings}
	if err := b.st.CreateMirror(context.Background(), m); err != nil {
		t.Fatalf("CreateMirror: %v", err)
	}
	return m
}
