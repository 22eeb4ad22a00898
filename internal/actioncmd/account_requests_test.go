package actioncmd

import (
	"reflect"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// TestAccountDefaultBranchAlreadyRight: a created destination whose default
// branch is already the source's (once the sync has pushed it) is not
// updated, and the note says the same as when it is.
func TestAccountDefaultBranchAlreadyRight(t *testing.T) {
	t.Parallel()
	b := setupAccount(t, false)
	b.src.add(forge.Repo{Owner: "octo", Name: "app", DefaultBranch: "main"})
	b.src.add(forge.Repo{Owner: "octo", Name: "lib", DefaultBranch: "trunk"})
	b.dst.createdHead = "main"
	b.outcomes["lib"] = syncOutcome{res: &mirror.Result{Refs: []mirror.RefResult{
		{Ref: "refs/heads/trunk", Action: mirror.ActCreate, Outcome: mirror.Created, Source: sha1},
	}}}
	if got := b.run(t); got != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", got, &b.stderr)
	}
	if got, want := b.dst.updates, map[string]forge.RepoUpdate{"mirror/lib": {DefaultBranch: "trunk"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("updates %v, want %v (mirror/app has main already)", got, want)
	}
	notes := map[string]string{}
	for _, r := range b.report(t).Repositories {
		notes[r.Source] = r.Note
	}
	if want := map[string]string{"octo/app": "created; default branch main", "octo/lib": "created; default branch trunk"}; !reflect.DeepEqual(notes, want) {
		t.Errorf("notes %v, want %v", notes, want)
	}
}

// TestAccountDryRunEmptySource: a dry run says an empty source would be
// skipped and the others created.
func TestAccountDryRunEmptySource(t *testing.T) {
	t.Parallel()
	b := setupAccount(t, false)
	b.src.add(forge.Repo{Owner: "octo", Name: "app", DefaultBranch: "main"})
	b.src.add(forge.Repo{Owner: "octo", Name: "hollow"})
	b.src.setEmpty("octo/hollow")
	if got := b.run(t, "--dry-run"); got != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", got, &b.stderr)
	}
	if len(b.dst.created) != 0 || len(b.calls) != 0 {
		t.Errorf("a dry run created %v and synced %d repositories", b.dst.createdNames(), len(b.calls))
	}
	got := map[string]string{}
	for _, r := range b.report(t).Repositories {
		got[r.Source] = r.Status + ": " + r.Note
	}
	want := map[string]string{
		"octo/app":    "planned: would create mirror/app (public) and mirror it",
		"octo/hollow": "skipped: " + skipEmpty + "; the destination was not created",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("repositories %v, want %v", got, want)
	}
}

// TestE2ERequestsPerRepository counts what mirroring an organisation into
// new Gitee repositories costs each repository, so that a request more
// (each Git request is a git process on the server, each one a round trip)
// does not go unnoticed: the source's ref listing and one pack from it, the
// creation (with the description), one push, and the default branch when
// the created repository does not have it already. The new destination is
// not listed nor read, and an empty source costs its ref listing only.
func TestE2ERequestsPerRepository(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	org(e.gh, "octo", e2eGitHubUser)
	org(e.ge, "mirror", e2eGiteeUser)
	want := map[string]map[string]string{}
	for _, n := range []string{"a", "b", "c"} {
		want[n] = e.seed(e.gh, "octo", n, forgetest.RepoMeta{Description: "repository " + n}, "main", "dev")
	}
	want["legacy"] = e.seed(e.gh, "octo", "legacy", forgetest.RepoMeta{Description: "old style"}, "master", "dev")
	e.seed(e.gh, "octo", "hollow", forgetest.RepoMeta{}) // no refs
	e.b.env["SOURCE_TOKEN"] = e2eGitHubToken
	e.b.env["DESTINATION_TOKEN"] = e2eGiteeToken
	e.gh.ResetStats()
	e.ge.ResetStats()
	e.gh.ResetAPIStats()
	e.ge.ResetAPIStats()

	if got := e.run("--source=github/octo", "--destination=gitee/mirror", "--concurrency=2"); got != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", got, &e.b.stdout, &e.b.stderr)
	}
	for name, refs := range want {
		if got := e.ge.Refs("mirror", name); !reflect.DeepEqual(got, refs) {
			t.Errorf("mirror/%s refs %v, want %v", name, got, refs)
		}
		meta, _ := e.ge.RepoMeta("mirror", name)
		if wantBranch := map[bool]string{true: "master", false: "main"}[name == "legacy"]; meta.DefaultBranch != wantBranch || meta.Description == "" {
			t.Errorf("mirror/%s settings %+v, want default branch %s and the description", name, meta, wantBranch)
		}
	}
	if _, ok := e.ge.RepoMeta("mirror", "hollow"); ok {
		t.Error("mirror/hollow was created for an empty source")
	}

	const mirrored, empty = 4, 1
	if got, want := e.gh.Stats(), (forgetest.Stats{InfoRefsUploadPack: mirrored + empty, UploadPackPOSTs: mirrored}); !sameCounts(got, want) {
		t.Errorf("GitHub Git requests %+v, want %+v", got, want)
	}
	if got, want := e.ge.Stats(), (forgetest.Stats{ReceivePackPOSTs: mirrored}); !sameCounts(got, want) {
		t.Errorf("Gitee Git requests %+v, want %+v (no listing of a repository just created)", got, want)
	}
	perRepo := map[string]int{
		"gitee POST /orgs/{org}/repos":      mirrored,
		"gitee PATCH /repos/{owner}/{repo}": mirrored - 1, // legacy has master already
	}
	api := e.ge.APIStats().Endpoints
	for ep, n := range e.gh.APIStats().Endpoints {
		api[ep] += n
	}
	once := 0
	for ep, n := range api {
		switch {
		case perRepo[ep] != 0:
		case strings.Contains(ep, "{repo}"):
			t.Errorf("%d requests %s, want none", n, ep)
		default:
			once += n // listings, who the token is: once per run
		}
	}
	for ep, n := range perRepo {
		if api[ep] != n {
			t.Errorf("%d requests %s, want %d", api[ep], ep, n)
		}
	}
	if once > 4 {
		t.Errorf("%d requests for the run as a whole (%v), want at most 4 whatever the number of repositories", once, api)
	}
}

// sameCounts compares the request counts of two Stats, not their bytes.
func sameCounts(a, b forgetest.Stats) bool {
	return a.InfoRefsUploadPack == b.InfoRefsUploadPack && a.InfoRefsReceivePack == b.InfoRefsReceivePack &&
		a.UploadPackPOSTs == b.UploadPackPOSTs && a.ReceivePackPOSTs == b.ReceivePackPOSTs
}
