package jobs

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// giteeCommit commits files on branch of acme/<name> as it is on Gitee
// now (a new branch from start when Gitee has no such branch) and pushes
// it there.
func (b *runnerBundle) giteeCommit(t *testing.T, name, branch, start string, files map[string]string) string {
	t.Helper()
	w := forgetest.NewWork(t)
	url := b.f.GitURL(giteeOrg, name)
	if err := w.Fetch(url, giteeLogin, giteeToken, "+refs/heads/*:refs/remotes/gitee/*"); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.f.Refs(giteeOrg, name)["refs/heads/"+branch]; ok {
		start = "refs/remotes/gitee/" + branch
	}
	w.Checkout(start)
	sha := w.Commit("on gitee "+branch, files)
	if err := w.Push(url, giteeLogin, giteeToken, "HEAD:refs/heads/"+branch); err != nil {
		t.Fatal(err)
	}
	return sha
}

// TestDefaultRunner_TwoWay: a mirror with direction both carries a commit
// on each site to the other in one sync, with L kept in the store and the
// Gitee webhook registered; a ref changed on both sides is a conflict that
// touches neither side, reported on a neutral check run with both commits
// and the commands that resolve it, while the other refs carry on.
func TestDefaultRunner_TwoWay(t *testing.T) {
	t.Parallel()
	b := setupRunner(t)
	b.runner.cfg.BaseURL = "https://app.example"
	ctx := context.Background()
	first := b.push(t, "main", map[string]string{"README": "hello"})
	m := b.mirror(t, "widget", store.Both)

	res, err := b.runner.Sync(ctx, m)
	if err != nil {
		t.Fatalf("first Sync: %v", err)
	}
	if got := b.f.Refs(giteeOrg, "widget")["refs/heads/main"]; got != first {
		t.Fatalf("Gitee main = %q, want %q (%+v)", got, first, res.Refs)
	}
	if hooks := b.f.GiteeHooks(giteeOrg, "widget"); len(hooks) != 1 || !strings.HasPrefix(hooks[0].URL, "https://app.example"+store.HookPath) {
		t.Errorf("Gitee hooks = %+v, want the mirror's push hook (pushes there feed a two-way mirror)", hooks)
	}
	if m, _ = b.st.GetMirror(ctx, m.ID); m.HookRemoteID == 0 {
		t.Errorf("the registered hook is not recorded")
	}

	// A commit on each site, on different branches: one sync brings each
	// to the other.
	fromGitee := b.giteeCommit(t, "widget", "main", "", map[string]string{"gitee.txt": "from gitee"})
	fromGitHub := b.push(t, "dev", map[string]string{"dev.txt": "from github"})
	res, err = b.runner.Sync(ctx, m)
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if got := b.f.Refs(ghOwner, ghName)["refs/heads/main"]; got != fromGitee {
		t.Errorf("GitHub main = %q, want Gitee's %q", got, fromGitee)
	}
	if got := b.f.Refs(giteeOrg, "widget")["refs/heads/dev"]; got != fromGitHub {
		t.Errorf("Gitee dev = %q, want GitHub's %q", got, fromGitHub)
	}
	state, err := b.st.RefState(ctx, m.ID)
	if err != nil || state["refs/heads/main"] != fromGitee || state["refs/heads/dev"] != fromGitHub {
		t.Errorf("L = %v, %v; want main %s and dev %s", state, err, fromGitee, fromGitHub)
	}
	if v := judge(res, nil); v.outcome != store.OutcomeOK {
		t.Errorf("verdict = %+v, want ok", v)
	}
	if !slices.ContainsFunc(b.f.CheckRuns(ghOwner, ghName), func(c forgetest.CheckRun) bool {
		return c.HeadSHA == fromGitee && c.Conclusion == forge.ConclusionSuccess
	}) {
		t.Errorf("no successful check run on the commit brought from Gitee")
	}
	// The echo of both pushes: nothing to do.
	if res, err = b.runner.Sync(ctx, m); err != nil || !res.NoOp {
		t.Errorf("echo Sync = %+v, %v; want a no-op", res, err)
	}

	// main changes on both sides; dev only on GitHub.
	if err := b.work.Fetch(b.f.GitURL(ghOwner, ghName), devLogin, devToken, "refs/heads/main:refs/remotes/origin/main"); err != nil {
		t.Fatal(err)
	}
	b.work.Checkout("refs/remotes/origin/main")
	b.work.Branch("main")
	ghMain := b.push(t, "main", map[string]string{"README": "github's change"})
	giteeMain := b.giteeCommit(t, "widget", "main", "", map[string]string{"README": "gitee's change"})
	b.work.Checkout(fromGitHub)
	dev := b.push(t, "dev", map[string]string{"dev.txt": "more"})
	res, err = b.runner.Sync(ctx, m)
	if err != nil {
		t.Fatalf("Sync with a conflict: %v", err)
	}
	if c := res.Conflicts(); len(c) != 1 || c[0].Ref != "refs/heads/main" {
		t.Fatalf("conflicts = %+v, want main", res.Refs)
	}
	if got := b.f.Refs(ghOwner, ghName)["refs/heads/main"]; got != ghMain {
		t.Errorf("GitHub main = %q, want its own %q: a conflict writes nothing", got, ghMain)
	}
	if got := b.f.Refs(giteeOrg, "widget")["refs/heads/main"]; got != giteeMain {
		t.Errorf("Gitee main = %q, want its own %q: a conflict writes nothing", got, giteeMain)
	}
	if got := b.f.Refs(giteeOrg, "widget")["refs/heads/dev"]; got != dev {
		t.Errorf("Gitee dev = %q, want %q: a conflict on main must not stop dev", got, dev)
	}
	if v := judge(res, nil); v.outcome != store.OutcomeDiverged || !strings.Contains(v.message, "refs/heads/main") {
		t.Errorf("verdict = %+v, want diverged naming the conflict", v)
	}
	i := slices.IndexFunc(b.f.CheckRuns(ghOwner, ghName), func(c forgetest.CheckRun) bool { return c.HeadSHA == ghMain })
	if i < 0 {
		t.Fatalf("no check run on GitHub's side of the conflict")
	}
	cr := b.f.CheckRuns(ghOwner, ghName)[i]
	for _, want := range []string{ghMain, giteeMain, "git fetch " + b.f.GitURL(giteeOrg, "widget") + " refs/heads/main", "git push --force " + b.f.GitURL(ghOwner, ghName)} {
		if !strings.Contains(cr.Summary, want) {
			t.Errorf("check run summary lacks %q:\n%s", want, cr.Summary)
		}
	}
	if cr.Conclusion != forge.ConclusionNeutral || !strings.Contains(cr.Title, "Conflict") {
		t.Errorf("check run = %s %q, want a neutral conflict", cr.Conclusion, cr.Title)
	}
	for _, r := range res.Refs {
		if r.Ref == "refs/heads/main" && r.Outcome != mirror.Conflict {
			t.Errorf("main: %s", r.Outcome)
		}
	}
}

// TestDefaultRunner_TwoWayRefusesForce: force and both do not go together,
// whatever the store holds.
func TestDefaultRunner_TwoWayRefusesForce(t *testing.T) {
	t.Parallel()
	b := setupRunner(t)
	b.push(t, "main", map[string]string{"README": "hello"})
	m := b.mirror(t, "widget", store.Both)
	m.Force = true
	_, err := b.runner.Sync(context.Background(), m)
	if v := judge(nil, err); v.class != "invalid" || !strings.Contains(v.message, "direction both") {
		t.Errorf("verdict = %+v, want invalid naming direction both", v)
	}
}
