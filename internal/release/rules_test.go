package release_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/release"
)

// seedOne gives src a release v1 of a tag mirrored to dst, with the named
// assets (seed i for the i-th).
func seedOne(t *testing.T, b *bundle, src, dst side, files ...string) {
	t.Helper()
	b.seedTags(t, src.owner, "v1")
	b.f.AddRelease(src.owner, "proj", forgetest.ReleaseSpec{Tag: "v1", Name: "One", Body: "notes"})
	for i, file := range files {
		b.f.AddReleaseAsset(src.owner, "proj", "v1", file, content(uint64(i), 4<<10))
	}
	b.mirrorRefs(t, src, dst, nil)
}

// A failed asset never fails the others.
func TestFailedAssetLeavesOthers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	src, dst := b.side("github"), b.side("gitee")
	seedOne(t, b, src, dst, "a", "b", "c")
	b.f.FailAssetUploads(2, 500)
	res := syncReleases(t, src, dst, nil, 0, func(o *release.Options) { o.Parallel, o.Attempts = 1, 2 })
	r := byTag(t, res, "v1")
	if res.OK() || r.OK() {
		t.Error("a failed asset left the result OK")
	}
	var failed, created int
	for _, a := range r.Assets {
		switch a.Outcome {
		case release.Failed:
			failed++
			if a.Class != failure.Network || a.Attempts != 2 || !strings.Contains(a.Message, "500") {
				t.Errorf("failed asset: %+v; want a network failure after 2 attempts naming the status", a)
			}
		case release.Created:
			created++
		}
	}
	if failed != 1 || created != 2 {
		t.Errorf("%d failed, %d created; want 1 and 2", failed, created)
	}
	// The next run finishes the job.
	res = syncReleases(t, src, dst, nil, 0)
	if !res.OK() || res.Uploaded != 1 {
		t.Errorf("second run: OK %v, %d uploaded; want true, 1", res.OK(), res.Uploaded)
	}
}

// An asset of the same name but other bytes on the target is replaced:
// by size on Gitee, by digest on GitHub.
func TestDifferentAssetReplaced(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		to   string
		size int64 // of the target's stale copy
	}{
		"gitee, other size":   {to: "gitee", size: 10},
		"github, same size":   {to: "github", size: 4 << 10},
		"github, other bytes": {to: "github", size: 100},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			src := b.side("github")
			dst := side{owner: "bob", releases: b.gitee, token: giteeToken}
			if tc.to == "github" {
				gh := b.asBob(t)
				dst.releases = gh
			}
			seedOne(t, b, src, dst, "a.bin")
			b.f.AddRelease(dst.owner, "proj", forgetest.ReleaseSpec{Tag: "v1", Name: "One", Body: "notes"})
			b.f.AddReleaseAsset(dst.owner, "proj", "v1", "a.bin", content(99, tc.size))
			res := syncReleases(t, src, dst, nil, 0)
			r := byTag(t, res, "v1")
			if r.Outcome != release.Updated || len(r.Assets) != 1 || r.Assets[0].Outcome != release.Updated {
				t.Fatalf("result %+v; want the release updated and its asset replaced", r)
			}
			want := b.f.Releases(src.owner, "proj")[0].Assets[0].SHA256
			got := b.f.Releases(dst.owner, "proj")[0].Assets
			if len(got) != 1 || got[0].SHA256 != want {
				t.Errorf("target's assets %+v, want one with sha256 %s", got, want)
			}
		})
	}
}

// A dry run reports and writes nothing.
func TestDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	src, dst := b.side("github"), b.side("gitee")
	seedOne(t, b, src, dst, "a")
	res := syncReleases(t, src, dst, nil, 0, func(o *release.Options) { o.DryRun = true })
	r := byTag(t, res, "v1")
	if r.Outcome != release.Planned || r.Assets[0].Outcome != release.Planned || res.Uploaded != 0 {
		t.Errorf("dry run result %+v", r)
	}
	if got := b.f.Releases(dst.owner, "proj"); len(got) != 0 {
		t.Errorf("a dry run created %+v", got)
	}
}

// The forge refuses an attachment over Gitee's limit with Gitee's words,
// and the client passes them on; with no limit in the options the rules
// take the target's own.
func TestGiteeLimitFromTarget(t *testing.T) {
	t.Parallel()
	b := setup(t)
	src, dst := b.side("github"), b.side("gitee")
	seedOne(t, b, src, dst)
	b.f.AddReleaseAsset(src.owner, "proj", "v1", "big.iso", bytes.NewReader(make([]byte, 2<<10)))
	b.f.SetGiteeAssetLimit(1 << 10)
	// The client's limit is 100 MB: the forge's smaller one refuses it.
	res := syncReleases(t, src, dst, nil, 0)
	a := byTag(t, res, "v1").Assets[0]
	if a.Outcome != release.Failed || a.Class != failure.Invalid || !strings.Contains(a.Message, "attachment larger than 1024 B") {
		t.Errorf("asset over the site's limit: %+v; want Gitee's refusal", a)
	}
	noSecrets(t, a.Message)
}

// A draft of the tag on a GitHub target is published with the source's
// text, not left as a draft beside it.
func TestTargetDraftPublished(t *testing.T) {
	t.Parallel()
	b := setup(t)
	src := b.side("gitee")
	dst := side{owner: "alice", releases: b.github, token: githubToken}
	seedOne(t, b, src, dst, "a.bin")
	b.f.AddRelease(dst.owner, "proj", forgetest.ReleaseSpec{Tag: "v1", Name: "wip", Draft: true})
	res := syncReleases(t, src, dst, nil, 0)
	if r := byTag(t, res, "v1"); r.Outcome != release.Updated {
		t.Errorf("v1: %s, want updated", r.Outcome)
	}
	got := b.f.Releases(dst.owner, "proj")
	if len(got) != 1 || got[0].Draft || got[0].Name != "One" || len(got[0].Assets) != 1 {
		t.Errorf("target's releases %+v; want one published release with the asset", got)
	}
}
