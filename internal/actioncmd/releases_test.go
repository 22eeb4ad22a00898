package actioncmd

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
)

// releaseE2E is newE2E with the Actions files (outputs, summary, workspace),
// octo/app seeded on GitHub with release v1 and two assets, one over the
// destination's limit, and an empty mirror/app on Gitee.
func releaseE2E(t *testing.T) (e *e2e, small string) {
	t.Helper()
	e = newE2E(t)
	for k, v := range map[string]string{
		"GITHUB_OUTPUT":       filepath.Join(e.b.dir, "output"),
		"GITHUB_STEP_SUMMARY": filepath.Join(e.b.dir, "summary"),
		"SOURCE_TOKEN":        e2eGitHubToken,
		"DESTINATION_TOKEN":   e2eGiteeToken,
	} {
		e.b.env[k] = v
	}
	org(e.gh, "octo", e2eGitHubUser)
	org(e.ge, "mirror", e2eGiteeUser)
	e.seed(e.gh, "octo", "app", forgetest.RepoMeta{}, "main")
	e.ge.CreateRepo("mirror", "app")
	e.gh.AddRelease("octo", "app", forgetest.ReleaseSpec{Tag: "v1", Name: "Version 1", Body: "What's new"})
	small = e.gh.AddReleaseAsset("octo", "app", "v1", "app.tar.gz", strings.NewReader(strings.Repeat("x", 5000)))
	e.gh.AddReleaseAsset("octo", "app", "v1", "huge.iso", strings.NewReader(strings.Repeat("y", 20000)))
	e.ge.SetGiteeAssetLimit(10000)
	return e, small
}

// One repository, GitHub to Gitee, with releases: true. The asset over
// Gitee's limit fails to upload (the client's own limit is Gitee's 100 MB)
// and the Action says so with exit 1; the refs and the other asset landed,
// and a second run uploads nothing.
func TestE2EReleasesOneRepository(t *testing.T) {
	t.Parallel()
	e, small := releaseE2E(t)
	args := []string{"--source=github/octo/app", "--destination=gitee/mirror/app", "--destination-username=" + e2eGiteeUser, "--releases=true"}
	if got := e.run(args...); got != exitRefs {
		t.Fatalf("exit %d, want %d (an asset failed)\nstdout:\n%s\nstderr:\n%s", got, exitRefs, &e.b.stdout, &e.b.stderr)
	}
	rels := e.ge.Releases("mirror", "app")
	if len(rels) != 1 || rels[0].Name != "Version 1" || rels[0].Body != "What's new" || len(rels[0].Assets) != 1 || rels[0].Assets[0].SHA256 != small {
		t.Fatalf("Gitee's releases %+v", rels)
	}
	if out := e.b.outputs(t); out["releases"] != "1" {
		t.Errorf("releases output %q, want 1", out["releases"])
	}
	if !strings.Contains(e.b.stderr.String()+e.b.stdout.String(), "huge.iso") {
		t.Errorf("the failed asset is not named\nstdout:\n%s\nstderr:\n%s", &e.b.stdout, &e.b.stderr)
	}
	sum := e.b.file(t, e.b.env["GITHUB_STEP_SUMMARY"])
	if !strings.Contains(sum, "#### Releases") || !strings.Contains(sum, "app.tar.gz") {
		t.Errorf("summary lacks the releases:\n%s", sum)
	}
	var rep struct {
		Releases struct {
			Releases []struct {
				Tag, Outcome string
				Assets       []struct{ Name, Outcome string }
			}
		}
	}
	if err := json.Unmarshal([]byte(e.b.file(t, filepath.Join(e.b.dir, "gitee-mirror-report.json"))), &rep); err != nil {
		t.Fatal(err)
	}
	if r := rep.Releases.Releases; len(r) != 1 || r[0].Outcome != "created" || len(r[0].Assets) != 2 {
		t.Errorf("report's releases %+v", r)
	}

	// With Gitee's real limit named, the big asset is skipped, not failed,
	// and nothing is uploaded again.
	e.reset()
	e.ge.SetGiteeAssetLimit(forgetest.DefaultGiteeAssetLimit)
	e.gh.AddRelease("octo", "app", forgetest.ReleaseSpec{Tag: "v0", Name: "draft", Draft: true})
	uploads := e.ge.ReleaseStats().Uploads
	if got := e.run(args...); got != exitOK {
		t.Fatalf("second run: exit %d\nstdout:\n%s\nstderr:\n%s", got, &e.b.stdout, &e.b.stderr)
	}
	if n := e.ge.ReleaseStats().Uploads - uploads; n != 1 {
		t.Errorf("second run uploaded %d assets, want only huge.iso", n)
	}
	if len(e.ge.Releases("mirror", "app")) != 1 {
		t.Error("the draft was copied")
	}
}

// Account mode, Gitee to GitHub: every repository's releases follow its
// refs.
func TestE2EReleasesAccount(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	org(e.gh, "octo", e2eGitHubUser)
	org(e.ge, "mirror", e2eGiteeUser)
	e.b.env["SOURCE_TOKEN"] = e2eGiteeToken
	e.b.env["DESTINATION_TOKEN"] = e2eGitHubToken
	e.seed(e.ge, "mirror", "lib", forgetest.RepoMeta{}, "main")
	e.ge.AddRelease("mirror", "lib", forgetest.ReleaseSpec{Tag: "v1", Name: "Lib 1", Body: "notes", Prerelease: true})
	sum := e.ge.AddReleaseAsset("mirror", "lib", "v1", "lib.zip", strings.NewReader(strings.Repeat("z", 3000)))
	if got := e.run("--source=gitee/mirror", "--destination=github/octo", "--releases=true"); got != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", got, &e.b.stdout, &e.b.stderr)
	}
	rels := e.gh.Releases("octo", "lib")
	if len(rels) != 1 || !rels[0].Prerelease || rels[0].Name != "Lib 1" || len(rels[0].Assets) != 1 || rels[0].Assets[0].SHA256 != sum {
		t.Fatalf("GitHub's releases %+v", rels)
	}
	if rep := e.report(); len(rep.Repositories) != 1 || !strings.Contains(e.b.stdout.String(), "Releases: 1 created or updated") {
		t.Errorf("report %+v\nstdout:\n%s", rep, &e.b.stdout)
	}
}

// The releases input is refused for a side that is not on GitHub or Gitee.
func TestReleasesNeedKnownSites(t *testing.T) {
	t.Parallel()
	b := setup(t, false)
	b.env["DESTINATION_TOKEN"] = "tok"
	got := b.run(t, []string{"--source=github/octo/app", "--destination=https://git.example.com/a/b.git", "--releases=true"}, okResult(), nil)
	if got != exitUsage || !strings.Contains(b.stderr.String()+b.stdout.String(), "releases") {
		t.Errorf("exit %d, want %d naming the input\n%s%s", got, exitUsage, &b.stdout, &b.stderr)
	}
}
