package actioncmd

import (
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// lfsE2E is an end-to-end run of one repository, github/octo/app to
// gitee/bot/app, whose commits keep *.bin in Git LFS; it runs as an
// Actions step, so that outputs and the summary are written.
func lfsE2E(t *testing.T) *e2e {
	t.Helper()
	t.Parallel()
	if err := exec.Command("git", "lfs", "version").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("git lfs is not installed (.ci/run installs git-lfs): %v", err)
		}
		t.Skip("git lfs is not installed")
	}
	e := newE2E(t)
	ws := filepath.Join(e.b.dir, "workspace")
	if err := os.Mkdir(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": filepath.Join(e.b.dir, "output"),
		"GITHUB_STEP_SUMMARY": filepath.Join(e.b.dir, "summary"), "GITHUB_WORKSPACE": ws, "GITHUB_ACTION": "mirror",
		"SOURCE_TOKEN": e2eGitHubToken, "DESTINATION_TOKEN": e2eGiteeToken,
	} {
		e.b.env[k] = v
	}
	org(e.gh, "octo", e2eGitHubUser)
	org(e.ge, "bot", e2eGiteeUser)
	e.gh.SetRepo("octo", "app", forgetest.RepoMeta{DefaultBranch: "main"})
	e.ge.SetRepo("bot", "app", forgetest.RepoMeta{DefaultBranch: "main"})
	w := forgetest.NewWork(t)
	w.LFSTrack("*.bin")
	w.Commit("objects", map[string]string{"a.bin": strings.Repeat("a", 3000), "b.bin": strings.Repeat("b", 5000)})
	if _, err := w.Git(e2eSeeder, e2eSeedToken, "push", "-q", e.gh.GitURL("octo", "app"), "main"); err != nil {
		t.Fatalf("seeding: %v", err)
	}
	return e
}

// lfsArgs are the flags of a one-repository run with lfs.
var lfsArgs = []string{"--source=github/octo/app", "--destination=gitee/bot/app", "--destination-username=" + e2eGiteeUser, "--lfs=true"}

func TestE2ELFS(t *testing.T) {
	e := lfsE2E(t)
	if got := e.run(lfsArgs...); got != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", got, &e.b.stdout, &e.b.stderr)
	}
	if got := e.b.outputs(t)[outLFSObjects]; got != "2" {
		t.Errorf("%s = %q, want 2", outLFSObjects, got)
	}
	if got := len(e.ge.LFSObjects("bot", "app")); got != 2 {
		t.Errorf("the destination has %d LFS objects, want 2", got)
	}
	if !strings.Contains(e.b.stdout.String(), "LFS: 2 object(s)") {
		t.Errorf("stdout has no LFS tally:\n%s", &e.b.stdout)
	}
	e.noTokens(t)
}

func TestE2ELFSDestinationWithout(t *testing.T) {
	e := lfsE2E(t)
	e.ge.DisableLFS("bot", "app", http.StatusNotImplemented)
	if got := e.run(lfsArgs...); got != exitRefs {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", got, exitRefs, &e.b.stdout, &e.b.stderr)
	}
	if got, want := e.ge.Refs("bot", "app"), e.gh.Refs("octo", "app"); got["refs/heads/main"] != want["refs/heads/main"] {
		t.Errorf("main on the destination = %q, want the source's %q", got["refs/heads/main"], want["refs/heads/main"])
	}
	if got := e.b.outputs(t)[outLFSObjects]; got != "0" {
		t.Errorf("%s = %q, want 0", outLFSObjects, got)
	}
	for _, want := range []string{"2 (7.8 KiB) NOT on the destination", "no Git LFS storage", "LFS objects missing"} {
		if !strings.Contains(e.b.stderr.String()+e.b.stdout.String(), want) {
			t.Errorf("output does not say %q:\nstdout:\n%s\nstderr:\n%s", want, &e.b.stdout, &e.b.stderr)
		}
	}
	if !strings.Contains(e.b.file(t, e.b.env["GITHUB_STEP_SUMMARY"]), "NOT on the destination") {
		t.Errorf("the summary does not report the missing objects:\n%s", e.b.file(t, e.b.env["GITHUB_STEP_SUMMARY"]))
	}
	if rep := e.b.file(t, filepath.Join(e.b.env["GITHUB_WORKSPACE"], "gitee-mirror-report-mirror.json")); !strings.Contains(rep, `"no_lfs": true`) {
		t.Errorf("the report has no LFS shortfall:\n%s", rep)
	}
	e.noTokens(t)
}

// noTokens fails if a token or a storage ticket reached the output.
func (e *e2e) noTokens(t *testing.T) {
	t.Helper()
	all := e.b.stdout.String() + e.b.stderr.String() + e.b.file(t, e.b.env["GITHUB_OUTPUT"]) + e.b.file(t, e.b.env["GITHUB_STEP_SUMMARY"]) +
		e.b.file(t, filepath.Join(e.b.env["GITHUB_WORKSPACE"], "gitee-mirror-report-mirror.json"))
	var kept []string
	for _, line := range strings.Split(all, "\n") {
		if !strings.HasPrefix(line, "::add-mask::") { // how the runner learns what to mask
			kept = append(kept, line)
		}
	}
	all = strings.Join(kept, "\n")
	for _, s := range []string{e2eGitHubToken, e2eGiteeToken, e2eSeedToken, "lfs-ticket-"} {
		if strings.Contains(all, s) {
			t.Errorf("%q reached the output", s)
		}
	}
}

// TestAccountRepoWithMissingLFSFails: in account mode a repository whose
// LFS objects did not all reach the destination counts as failed, and its
// uploads count in lfs-objects.
func TestAccountRepoWithMissingLFSFails(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		lfs  *mirror.LFSReport
		want status
	}{
		"no LFS":   {want: statusMirrored},
		"complete": {lfs: &mirror.LFSReport{Objects: 2, Uploaded: 2}, want: statusMirrored},
		"missing":  {lfs: &mirror.LFSReport{Objects: 2, Missing: 2, Reason: "no LFS"}, want: statusFailed},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := okResult()
			res.LFS = tc.lfs
			var r repoResult
			r.record(res, nil, true)
			if r.Status != tc.want {
				t.Errorf("status = %s, want %s", r.Status, tc.want)
			}
			if got := lfsUploaded(res); tc.lfs != nil && got != tc.lfs.Uploaded {
				t.Errorf("lfsUploaded = %d, want %d", got, tc.lfs.Uploaded)
			}
		})
	}
}

func TestParseLFS(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in   string
		want mirror.LFSMode
		bad  bool
	}{
		"absent":     {in: "", want: mirror.LFSOff},
		"false":      {in: "false", want: mirror.LFSOff},
		"true":       {in: "true", want: mirror.LFSCopy},
		"upper case": {in: " TRUE ", want: mirror.LFSCopy},
		"required":   {in: "required", want: mirror.LFSRequired},
		"other":      {in: "yes please", bad: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := parseLFS(func(string) string { return tc.in })
			if tc.bad {
				var in *inputError
				if !errors.As(err, &in) || in.name != inLFS {
					t.Fatalf("err = %v, want an input error naming %q", err, inLFS)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("parseLFS(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}
