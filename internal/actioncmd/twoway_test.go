package actioncmd

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// withFiles gives an end-to-end run the GitHub output and summary files.
func (e *e2e) withFiles() {
	e.b.env["GITHUB_OUTPUT"] = filepath.Join(e.b.dir, "output")
	e.b.env["GITHUB_STEP_SUMMARY"] = filepath.Join(e.b.dir, "summary")
}

// commitOn pushes a new commit on branch of owner/name at f, on top of what
// the branch has there, and returns it.
func (e *e2e) commitOn(f *forgetest.Forge, owner, name, branch, msg string) string {
	e.t.Helper()
	w, err := forgetest.Clone(e.t, f.GitURL(owner, name), e2eSeeder, e2eSeedToken)
	if err != nil {
		e.t.Fatal(err)
	}
	w.Checkout(branch)
	id := w.Commit(msg, map[string]string{"two-way.txt": msg})
	if err := w.Push(f.GitURL(owner, name), e2eSeeder, e2eSeedToken, branch); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// TestE2ETwoWay: a commit on either site reaches the other; a ref changed on
// both is a conflict: exit 1, both commits and the commands that resolve it
// in the summary, the conflicts output, and neither side written.
func TestE2ETwoWay(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	org(e.gh, "octo", e2eGitHubUser)
	org(e.ge, "mirror", e2eGiteeUser)
	e.seed(e.gh, "octo", "app", forgetest.RepoMeta{}, "main")
	e.b.env["SOURCE_TOKEN"] = e2eGitHubToken
	e.b.env["DESTINATION_TOKEN"] = e2eGiteeToken
	e.withFiles()
	args := []string{"--source=github/octo/app", "--destination=gitee/mirror/app", "--destination-username=" + e2eGiteeUser, "--two-way", "--cache-path=" + t.TempDir()}

	if got := e.run(args...); got != exitOK {
		t.Fatalf("first run: exit %d\nstderr:\n%s", got, &e.b.stderr)
	}
	fromGitee := e.commitOn(e.ge, "mirror", "app", "main", "made on Gitee")
	e.reset()
	if got := e.run(args...); got != exitOK {
		t.Fatalf("second run: exit %d\nstderr:\n%s", got, &e.b.stderr)
	}
	if got := e.gh.Refs("octo", "app")["refs/heads/main"]; got != fromGitee {
		t.Errorf("GitHub main = %s, want Gitee's commit %s", got, fromGitee)
	}
	if got := e.b.outputs(t); got["changed"] != "1" || got["conflicts"] != "0" {
		t.Errorf("outputs %v, want changed 1, conflicts 0", got)
	}

	onGitHub := e.commitOn(e.gh, "octo", "app", "main", "GitHub side")
	onGitee := e.commitOn(e.ge, "mirror", "app", "main", "Gitee side")
	e.reset()
	if got := e.run(args...); got != exitRefs {
		t.Fatalf("conflicting run: exit %d, want %d\nstderr:\n%s", got, exitRefs, &e.b.stderr)
	}
	if got := e.gh.Refs("octo", "app")["refs/heads/main"]; got != onGitHub {
		t.Errorf("GitHub main = %s, want it left at %s", got, onGitHub)
	}
	if got := e.ge.Refs("mirror", "app")["refs/heads/main"]; got != onGitee {
		t.Errorf("Gitee main = %s, want it left at %s", got, onGitee)
	}
	if got := e.b.outputs(t)["conflicts"]; got != "1" {
		t.Errorf("conflicts output = %q, want 1", got)
	}
	summary := e.b.file(t, e.b.env["GITHUB_STEP_SUMMARY"])
	for _, want := range []string{onGitHub, onGitee, "git fetch " + e.gh.GitURL("octo", "app") + " refs/heads/main && git push --force " + e.ge.GitURL("mirror", "app") + " FETCH_HEAD:refs/heads/main"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
	if !strings.Contains(e.b.stdout.String(), "keep the destination's") {
		t.Errorf("log lacks how to resolve the conflict:\n%s", &e.b.stdout)
	}
}

// TestE2ETwoWayAccount: account mode with two-way syncs each repository
// both ways.
func TestE2ETwoWayAccount(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	org(e.gh, "octo", e2eGitHubUser)
	org(e.ge, "mirror", e2eGiteeUser)
	for _, n := range []string{"app", "lib"} {
		e.seed(e.gh, "octo", n, forgetest.RepoMeta{}, "main")
	}
	e.b.env["SOURCE_TOKEN"] = e2eGitHubToken
	e.b.env["DESTINATION_TOKEN"] = e2eGiteeToken
	e.withFiles()
	args := []string{"--source=github/octo", "--destination=gitee/mirror", "--two-way", "--cache-path=" + t.TempDir()}
	if got := e.run(args...); got != exitOK {
		t.Fatalf("first run: exit %d\nstderr:\n%s", got, &e.b.stderr)
	}
	e.commitOn(e.ge, "mirror", "lib", "main", "made on Gitee")
	e.reset()
	if got := e.run(args...); got != exitOK {
		t.Fatalf("second run: exit %d\nstderr:\n%s", got, &e.b.stderr)
	}
	for _, n := range []string{"app", "lib"} {
		if gh, ge := e.gh.Refs("octo", n), e.ge.Refs("mirror", n); !reflect.DeepEqual(gh, ge) {
			t.Errorf("%s: GitHub %v, Gitee %v", n, gh, ge)
		}
	}
	if got := e.b.outputs(t); got["changed"] != "1" || got["conflicts"] != "0" {
		t.Errorf("outputs %v, want changed 1, conflicts 0", got)
	}
}

// TestTwoWayInputs: two-way reaches the sync, refuses force, and makes a
// kept ref count as out of sync even without prune.
func TestTwoWayInputs(t *testing.T) {
	t.Parallel()
	b := setup(t, true)
	b.env["INPUT_DESTINATION"] = "gitee/octo/repo"
	b.env["INPUT_TWO-WAY"] = "true"
	b.env["INPUT_PRUNE"] = "false"
	kept := &mirror.Result{Refs: []mirror.RefResult{{Ref: "refs/heads/gone", Action: mirror.ActSkip, Outcome: mirror.Kept, Source: sha1}}}
	if got := b.run(t, actionsArgs, kept, nil); got != exitRefs {
		t.Errorf("a kept ref in a two-way sync: exit %d, want %d", got, exitRefs)
	}
	if len(b.calls) != 1 || !b.calls[0].TwoWay {
		t.Fatalf("sync calls %+v, want one two-way", b.calls)
	}

	b = setup(t, true)
	b.env["INPUT_DESTINATION"] = "gitee/octo/repo"
	b.env["INPUT_TWO-WAY"] = "true"
	b.env["INPUT_FORCE"] = "true"
	if got := b.run(t, actionsArgs, &mirror.Result{}, nil); got != exitUsage {
		t.Errorf("two-way with force: exit %d, want %d", got, exitUsage)
	}
	if !strings.Contains(b.stderr.String()+b.stdout.String(), "two-way") {
		t.Errorf("the refusal does not name two-way:\nstdout:\n%s\nstderr:\n%s", &b.stdout, &b.stderr)
	}
}
