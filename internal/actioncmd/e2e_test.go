package actioncmd

import (
	"maps"
	"reflect"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
)

// End-to-end tests of account mode: the real GitHub and Gitee clients and
// the real sync core, against two test forges.

// TestE2EOrganisationToGitee mirrors a GitHub organisation of every kind of
// repository to a Gitee organisation whose repositories do not exist yet.
func TestE2EOrganisationToGitee(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	org(e.gh, "octo", e2eGitHubUser)
	org(e.ge, "mirror", e2eGiteeUser)
	want := map[string]map[string]string{
		"app": e.seed(e.gh, "octo", "app", forgetest.RepoMeta{Description: "The app", Homepage: "https://app.example"}, "main", "dev"),
		"lib": e.seed(e.gh, "octo", "lib", forgetest.RepoMeta{Description: "Private library", Private: true}, "trunk", "main"),
	}
	e.seed(e.gh, "octo", "empty", forgetest.RepoMeta{Description: "nothing yet"})
	e.seed(e.gh, "octo", "old", forgetest.RepoMeta{Archived: true}, "main")
	e.seed(e.gh, "octo", "forked", forgetest.RepoMeta{Fork: true}, "main")
	e.b.env["SOURCE_TOKEN"] = e2eGitHubToken
	e.b.env["DESTINATION_TOKEN"] = e2eGiteeToken

	if got := e.run("--source=github/octo", "--destination=gitee/mirror"); got != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", got, &e.b.stdout, &e.b.stderr)
	}
	for name, refs := range want {
		if got := e.ge.Refs("mirror", name); !reflect.DeepEqual(got, refs) {
			t.Errorf("mirror/%s refs %v, want %v", name, got, refs)
		}
		if err := e.ge.Fsck("mirror", name); err != nil {
			t.Errorf("mirror/%s: %v", name, err)
		}
	}
	checks := map[string]forgetest.RepoMeta{
		"app": {Description: "The app", Homepage: "https://app.example", DefaultBranch: "main"},
		"lib": {Description: "Private library", DefaultBranch: "trunk", Private: true},
	}
	for name, wantMeta := range checks {
		got, ok := e.ge.RepoMeta("mirror", name)
		if !ok {
			t.Errorf("mirror/%s was not created", name)
			continue
		}
		if got != wantMeta {
			t.Errorf("mirror/%s settings %+v, want %+v", name, got, wantMeta)
		}
	}
	for _, name := range []string{"empty", "old", "forked"} {
		if _, ok := e.ge.RepoMeta("mirror", name); ok {
			t.Errorf("mirror/%s was created, but it should have been skipped", name)
		}
	}
	rep := e.report()
	wantStatus := map[string]string{"octo/app": "mirrored", "octo/lib": "mirrored", "octo/empty": "skipped", "octo/old": "skipped", "octo/forked": "skipped"}
	if got := rep.statuses(); !reflect.DeepEqual(got, wantStatus) {
		t.Errorf("statuses %v, want %v", got, wantStatus)
	}

	// A second run changes nothing and creates nothing.
	e.reset()
	if got := e.run("--source=github/octo", "--destination=gitee/mirror"); got != exitOK {
		t.Fatalf("second run: exit %d\nstderr:\n%s", got, &e.b.stderr)
	}
	if rep := e.report(); rep.Changed != 0 || rep.Mirrored != 2 {
		t.Errorf("second run: changed %d, mirrored %d; want 0 and 2", rep.Changed, rep.Mirrored)
	}
	for _, r := range e.report().Repositories {
		if r.Created {
			t.Errorf("second run created %s again", r.Destination)
		}
	}
}

// TestE2EMappingsAndFilters mirrors a user's repositories chosen by include
// and exclude, one of them renamed, into the token owner's own Gitee
// account.
func TestE2EMappingsAndFilters(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	e.gh.Grant(e2eSeeder, e2eGitHubUser, "*", forgetest.Write)
	e.gh.Grant(e2eGitHubUser, e2eGitHubUser, "*", forgetest.Write)
	refs := map[string]map[string]string{}
	for _, n := range []string{"app", "app-web", "app-old", "lib", "notes"} {
		refs[n] = e.seed(e.gh, e2eGitHubUser, n, forgetest.RepoMeta{Description: n}, "main")
	}
	e.b.env["SOURCE_TOKEN"] = e2eGitHubToken
	e.b.env["DESTINATION_TOKEN"] = e2eGiteeToken
	args := []string{"--source=github/" + e2eGitHubUser, "--destination=gitee/" + e2eGiteeUser,
		"--include=app*, lib", "--exclude=*-old", "--mappings=lib=>octo-lib", "--visibility=private"}
	if got := e.run(args...); got != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s", got, &e.b.stderr)
	}
	wantRepos := map[string]string{"app": "app", "app-web": "app-web", "octo-lib": "lib"}
	for target, src := range wantRepos {
		meta, ok := e.ge.RepoMeta(e2eGiteeUser, target)
		if !ok {
			t.Errorf("%s/%s not created", e2eGiteeUser, target)
			continue
		}
		if !meta.Private || meta.Description != src {
			t.Errorf("%s settings %+v, want private with description %q", target, meta, src)
		}
		if got := e.ge.Refs(e2eGiteeUser, target); !reflect.DeepEqual(got, refs[src]) {
			t.Errorf("%s refs %v, want %v", target, got, refs[src])
		}
	}
	for _, n := range []string{"app-old", "notes", "lib"} {
		if _, ok := e.ge.RepoMeta(e2eGiteeUser, n); ok {
			t.Errorf("%s was mirrored, but include/exclude/mappings say not", n)
		}
	}
}

// TestE2EGiteeToGitHub mirrors a Gitee organisation to a GitHub one: Gitee
// is the source now, and its Git server wants the token owner's login.
func TestE2EGiteeToGitHub(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	org(e.ge, "corp", e2eGiteeUser)
	org(e.gh, "corp-mirror", e2eGitHubUser)
	want := map[string]map[string]string{
		"core": e.seed(e.ge, "corp", "core", forgetest.RepoMeta{Description: "Core", Private: true}, "master", "release"),
		"docs": e.seed(e.ge, "corp", "docs", forgetest.RepoMeta{Description: "Docs"}, "main"),
	}
	e.b.env["SOURCE_TOKEN"] = e2eGiteeToken
	e.b.env["DESTINATION_TOKEN"] = e2eGitHubToken
	e.b.env["SOURCE_USERNAME"] = "not-used-outside-actions"
	if got := e.run("--source=gitee/corp", "--destination=github/corp-mirror", "--account-type=org", "--source-username=someone-else"); got != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", got, &e.b.stdout, &e.b.stderr)
	}
	if !strings.Contains(e.b.stderr.String(), "source-username someone-else is ignored") {
		t.Errorf("no warning that the username input was overridden by GET /user:\n%s", &e.b.stderr)
	}
	for name, refs := range want {
		if got := e.gh.Refs("corp-mirror", name); !reflect.DeepEqual(got, refs) {
			t.Errorf("corp-mirror/%s refs %v, want %v", name, got, refs)
		}
	}
	if got, _ := e.gh.RepoMeta("corp-mirror", "core"); got != (forgetest.RepoMeta{Description: "Core", DefaultBranch: "master", Private: true}) {
		t.Errorf("corp-mirror/core settings %+v", got)
	}
	if got, _ := e.gh.RepoMeta("corp-mirror", "docs"); got != (forgetest.RepoMeta{Description: "Docs", DefaultBranch: "main"}) {
		t.Errorf("corp-mirror/docs settings %+v", got)
	}
}

// TestE2EOneRepositoryFails: a destination that refuses a ref and one the
// token may no longer push to fail; the other repositories land, and the
// exit code says something is wrong.
func TestE2EOneRepositoryFails(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	org(e.gh, "octo", e2eGitHubUser)
	org(e.ge, "mirror", e2eGiteeUser)
	refs := map[string]map[string]string{}
	for _, n := range []string{"app", "lib", "site", "tool"} {
		refs[n] = e.seed(e.gh, "octo", n, forgetest.RepoMeta{}, "main", "dev")
	}
	e.ge.SetRepo("mirror", "lib", forgetest.RepoMeta{})
	e.ge.RejectRef("mirror", "lib", "refs/heads/dev", "dev is protected here")
	e.ge.SetRepo("mirror", "site", forgetest.RepoMeta{})
	e.ge.Grant(e2eGiteeUser, "mirror", "site", forgetest.Read) // the push grant was revoked
	e.b.env["SOURCE_TOKEN"] = e2eGitHubToken
	e.b.env["DESTINATION_TOKEN"] = e2eGiteeToken

	if got := e.run("--source=github/octo", "--destination=gitee/mirror", "--concurrency=2"); got != exitRefs {
		t.Fatalf("exit %d, want %d\nstderr:\n%s", got, exitRefs, &e.b.stderr)
	}
	for _, n := range []string{"app", "tool"} {
		if got := e.ge.Refs("mirror", n); !reflect.DeepEqual(got, refs[n]) {
			t.Errorf("mirror/%s refs %v, want %v", n, got, refs[n])
		}
	}
	libWant := maps.Clone(refs["lib"])
	delete(libWant, "refs/heads/dev")
	if got := e.ge.Refs("mirror", "lib"); !reflect.DeepEqual(got, libWant) {
		t.Errorf("mirror/lib refs %v, want all but the refused one %v", got, libWant)
	}
	rep := e.report()
	if got, want := rep.statuses(), map[string]string{"octo/app": "mirrored", "octo/lib": "failed", "octo/site": "failed", "octo/tool": "mirrored"}; !reflect.DeepEqual(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	for _, r := range rep.Repositories {
		switch r.Source {
		case "octo/lib":
			if r.Failed != 1 || r.Changed != 2 {
				t.Errorf("lib: %d failed, %d changed refs; want 1 and 2", r.Failed, r.Changed)
			}
		case "octo/site":
			if r.Error == nil || r.Error.Class != "permission" {
				t.Errorf("site error %+v, want class permission", r.Error)
			}
		}
	}
	for _, want := range []string{"octo/lib → mirror/lib: failed: refs/heads/dev: rejected", "octo/site → mirror/site: failed: permission"} {
		if !strings.Contains(e.b.stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, &e.b.stderr)
		}
	}
}

// TestE2EFixedListWithInstallationToken: the workflow's own GITHUB_TOKEN (an
// installation token, refused GET /user) reads a fixed list of repositories
// without listing the account.
func TestE2EFixedListWithInstallationToken(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	e.gh.AddOrg("octo")
	e.gh.Grant(e2eSeeder, "octo", "*", forgetest.Write)
	org(e.ge, "mirror", e2eGiteeUser)
	refs := e.seed(e.gh, "octo", "app", forgetest.RepoMeta{Private: true, Description: "d"}, "main")
	e.seed(e.gh, "octo", "other", forgetest.RepoMeta{}, "main")
	e.gh.AddInstallationToken("ghs_installation", 7, "octo/app")
	e.b.env["GITHUB_TOKEN"] = "ghs_installation"
	e.b.env["DESTINATION_TOKEN"] = e2eGiteeToken
	if got := e.run("--source=github/octo", "--destination=gitee/mirror", "--repositories=app"); got != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s", got, &e.b.stderr)
	}
	if got := e.ge.Refs("mirror", "app"); !reflect.DeepEqual(got, refs) {
		t.Errorf("mirror/app refs %v, want %v", got, refs)
	}
	if meta, _ := e.ge.RepoMeta("mirror", "app"); !meta.Private || meta.Description != "d" {
		t.Errorf("mirror/app settings %+v", meta)
	}
	if _, ok := e.ge.RepoMeta("mirror", "other"); ok {
		t.Error("mirror/other created: it is not in the list")
	}
}
