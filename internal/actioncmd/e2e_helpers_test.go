package actioncmd

import (
	"maps"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// Logins and tokens of the end-to-end tests. Each site is its own forge, so
// that a token can only work where it belongs.
const (
	e2eGitHubUser  = "octocat"
	e2eGitHubToken = "ghp_e2e_octocat"
	e2eGiteeUser   = "mirror-bot"
	e2eGiteeToken  = "gitee_e2e_mirror_bot"
	e2eSeeder      = "seeder" // makes content, on both sites
	e2eSeedToken   = "seed-token"
)

// e2e is an account-mode run against two test forges: one serving the
// GitHub REST API, the other the Gitee OpenAPI v5 (whose Git server wants
// the token owner's login as username, as Gitee does).
type e2e struct {
	t      *testing.T
	gh, ge *forgetest.Forge
	b      *testBundle
}

func newE2E(t *testing.T) *e2e {
	t.Helper()
	e := &e2e{t: t, gh: forgetest.New(t), ge: forgetest.New(t, forgetest.RequireLoginAsUsername())}
	e.gh.AddUser(e2eGitHubUser, e2eGitHubToken)
	e.ge.AddUser(e2eGiteeUser, e2eGiteeToken)
	e.gh.AddUser(e2eSeeder, e2eSeedToken)
	e.ge.AddUser(e2eSeeder, e2eSeedToken)
	e.b = setup(t, false)
	maps.Copy(e.b.env, map[string]string{
		"GITHUB_SERVER_URL": e.gh.BaseURL(),
		"GITHUB_API_URL":    e.gh.GitHubAPIURL(),
	})
	return e
}

// org makes an organisation on f where user may create repositories and
// read and push every one.
func org(f *forgetest.Forge, name, user string) {
	f.AddOrg(name)
	f.Grant(user, name, "*", forgetest.Write)
	f.Grant(e2eSeeder, name, "*", forgetest.Write)
}

// seed makes owner/name on f with meta and pushes commits to each branch
// (the first is the default branch) and a tag v1; no branches leaves it
// empty. It returns the refs pushed.
func (e *e2e) seed(f *forgetest.Forge, owner, name string, meta forgetest.RepoMeta, branches ...string) map[string]string {
	e.t.Helper()
	archived := meta.Archived
	meta.Archived = false // pushes to an archived repository are refused
	if len(branches) > 0 {
		meta.DefaultBranch = branches[0]
	}
	f.SetRepo(owner, name, meta)
	if len(branches) == 0 {
		return nil
	}
	w := forgetest.NewWork(e.t)
	w.Commit("first commit of "+name, map[string]string{"README.md": "# " + name + "\n"})
	w.Tag("v1", "HEAD", true)
	refspecs := []string{"refs/tags/v1:refs/tags/v1"}
	for i, br := range branches {
		w.Branch(br)
		w.Commit(name+" on "+br, map[string]string{"file.txt": name + br, "n": string(rune('a' + i))})
		refspecs = append(refspecs, "refs/heads/"+br+":refs/heads/"+br)
	}
	if err := w.Push(f.GitURL(owner, name), e2eSeeder, e2eSeedToken, refspecs...); err != nil {
		e.t.Fatalf("seeding %s/%s: %v", owner, name, err)
	}
	if archived {
		meta.Archived = true
		f.SetRepo(owner, name, meta)
	}
	return f.Refs(owner, name)
}

// run runs the Action with the real sync and API clients and returns its
// exit code; env adds to the environment.
func (e *e2e) run(args ...string) int {
	e.t.Helper()
	// The test forges listen on loopback http://: the tests opt in.
	a := e.b.app(append([]string{"--allow-http", "--gitee-url=" + e.ge.BaseURL(), "--gitee-api-url=" + e.ge.GiteeAPIURL()}, args...), nil, nil)
	a.Sync = mirror.Sync
	code := exitCode(a.run(e.t.Context()))
	if testing.Verbose() {
		e.t.Logf("exit %d\nstdout:\n%s\nstderr:\n%s", code, &e.b.stdout, &e.b.stderr)
	}
	return code
}

// report reads the run's report.
func (e *e2e) report() reportFile {
	e.t.Helper()
	return (&accountBundle{testBundle: e.b}).report(e.t)
}

// reset clears the output of a previous run, for a second one.
func (e *e2e) reset() {
	e.b.stdout.Reset()
	e.b.stderr.Reset()
}
