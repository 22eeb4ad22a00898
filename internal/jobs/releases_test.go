package jobs

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/release"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// TestDefaultRunner_PullReleases: a pull mirror with releases brings
// Gitee's published releases to GitHub with its sync, assets
// byte-identical; the outcome is handed to the worker once.
func TestDefaultRunner_PullReleases(t *testing.T) {
	t.Parallel()
	b := setupRunner(t)
	ctx := context.Background()
	b.f.SetRepo(giteeOrg, "upstream", forgetest.RepoMeta{})
	w := forgetest.NewWork(t)
	w.Branch("main")
	w.Tag("v1.0.0", w.Commit("from gitee", map[string]string{"a": "b"}), false)
	if err := w.Push(b.f.GitURL(giteeOrg, "upstream"), giteeLogin, giteeToken, "refs/heads/main:refs/heads/main", "refs/tags/v1.0.0"); err != nil {
		t.Fatal(err)
	}
	b.f.AddRelease(giteeOrg, "upstream", forgetest.ReleaseSpec{Tag: "v1.0.0", Name: "One", Body: "notes", Prerelease: true})
	sum := b.f.AddReleaseAsset(giteeOrg, "upstream", "v1.0.0", "tool.zip", strings.NewReader(strings.Repeat("z", 5000)))
	m := b.mirror(t, "upstream", store.BToA)
	m.Releases = true

	res, err := b.runner.Sync(ctx, m)
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	rel, relErr := b.runner.Releases(res)
	if relErr != nil || rel == nil || rel.Count(release.Created) != 1 || rel.Assets(release.Created) != 1 {
		t.Fatalf("releases outcome = %+v, %v; want one release and one asset created", rel, relErr)
	}
	if again, _ := b.runner.Releases(res); again != nil {
		t.Errorf("the outcome was handed over twice")
	}
	got := b.f.Releases(ghOwner, ghName)
	if len(got) != 1 || got[0].Tag != "v1.0.0" || got[0].Body != "notes" || !got[0].Prerelease ||
		len(got[0].Assets) != 1 || got[0].Assets[0].SHA256 != sum {
		t.Errorf("GitHub releases = %+v, want Gitee's v1.0.0 with tool.zip (sha256 %s)", got, sum)
	}

	// Without releases: none are read.
	m.Releases = false
	res, err = b.runner.Sync(ctx, m)
	if rel, _ := b.runner.Releases(res); err != nil || rel != nil {
		t.Errorf("sync without releases: %+v, %v", rel, err)
	}
}

func TestJudgeReleases(t *testing.T) {
	t.Parallel()
	ok := verdict{outcome: store.OutcomeOK, status: store.StatusInSync}
	failed := verdict{outcome: store.OutcomeFailed, status: store.StatusFailing, class: failure.Auth, message: "refused", err: failure.New(failure.Auth, "refused")}
	good := &release.Result{Releases: []release.ReleaseResult{{Tag: "v1", Outcome: release.Created}}}
	badAsset := &release.Result{Releases: []release.ReleaseResult{{Tag: "v1", Outcome: release.Updated, Assets: []release.AssetResult{
		{Name: "a.zip", Outcome: release.Failed, Class: failure.Network, Message: "dropped"},
		{Name: "b.zip", Outcome: release.Failed, Class: failure.Network, Message: "dropped"}}}}}
	tests := map[string]struct {
		v       verdict
		rel     *release.Result
		err     error
		outcome store.Outcome
		class   failure.Class
		message string
	}{
		"none":             {ok, nil, nil, store.OutcomeOK, "", ""},
		"fine":             {ok, good, nil, store.OutcomeOK, "", ""},
		"asset failed":     {ok, badAsset, nil, store.OutcomeFailed, failure.Network, "release v1, asset a.zip: dropped (and 1 more"},
		"listing failed":   {ok, nil, failure.New(failure.Permission, "no access"), store.OutcomeFailed, failure.Permission, "releases: permission: no access"},
		"refs failed:kept": {failed, badAsset, nil, store.OutcomeFailed, failure.Auth, "refused"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			v := judgeReleases(tc.v, tc.rel, tc.err)
			if v.outcome != tc.outcome || v.class != tc.class || !strings.Contains(v.message, tc.message) {
				t.Errorf("verdict = %+v, want %s %s %q", v, tc.outcome, tc.class, tc.message)
			}
			if v.outcome == store.OutcomeFailed && (v.err == nil || failure.ClassOf(v.err) != tc.class) {
				t.Errorf("verdict error %v, want class %s", v.err, tc.class)
			}
			var fe *failure.Error
			if v.err != nil && !errors.As(v.err, &fe) {
				t.Errorf("verdict error %T is not classified", v.err)
			}
		})
	}
}

// TestJudgeLFS: LFS objects missing on the target leave the refs
// mirrored and the run incomplete, saying how many and why.
func TestJudgeLFS(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		lfs     *mirror.LFSReport
		outcome store.Outcome
		class   failure.Class
		message string
	}{
		"off":      {nil, store.OutcomeOK, "", ""},
		"complete": {&mirror.LFSReport{Objects: 2, Uploaded: 2}, store.OutcomeOK, "", ""},
		"no LFS on the target": {&mirror.LFSReport{Objects: 3, Missing: 3, MissingBytes: 300, NoLFS: true, Class: failure.Permission,
			Reason: "the target has no Git LFS storage"}, store.OutcomeDiverged, failure.Permission, "3 Git LFS objects (300 bytes) are not on the target: the target has no Git LFS storage"},
		"unclassified": {&mirror.LFSReport{Objects: 1, Missing: 1, Reason: "x"}, store.OutcomeDiverged, failure.Rejected, "1 Git LFS object (0 bytes) is not"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := &mirror.Result{Refs: []mirror.RefResult{{Ref: "refs/heads/main", Outcome: mirror.Updated}}, LFS: tc.lfs}
			v := judge(res, nil)
			if v.outcome != tc.outcome || v.class != tc.class || !strings.Contains(v.message, tc.message) {
				t.Errorf("verdict = %+v, want %s %s %q", v, tc.outcome, tc.class, tc.message)
			}
		})
	}
}
