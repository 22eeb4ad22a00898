package release_test

import (
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/release"
)

// TestMirrorReleases runs the whole story in both directions: a first run
// copies published releases and their assets byte for byte, skips the
// draft, the release whose tag is filtered out and the asset over the
// limit, and survives an upload failing twice; a second run uploads
// nothing; an edited note is updated; the target's own release is kept.
func TestMirrorReleases(t *testing.T) {
	t.Parallel()
	const limit = 1 << 20
	tests := map[string]struct {
		from, to   string
		failStatus int // how the first two uploads fail; 0 drops the connection
		drafts     int // Gitee has no drafts: its API never shows one
	}{
		"github to gitee": {from: "github", to: "gitee", failStatus: 502, drafts: 1},
		"gitee to github": {from: "gitee", to: "github", failStatus: 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			f := b.f
			src, dst := b.side(tc.from), b.side(tc.to)
			f.SetGiteeAssetLimit(limit)
			b.seedTags(t, src.owner, "v1.0", "v1.1-rc1", "v0.9", "nightly")
			b.f.AddRelease(src.owner, "proj", forgetest.ReleaseSpec{Tag: "v1.0", Name: "First", Body: "Notes\r\nline 2"})
			b.f.AddRelease(src.owner, "proj", forgetest.ReleaseSpec{Tag: "v1.1-rc1", Body: "release candidate", Prerelease: true})
			b.f.AddRelease(src.owner, "proj", forgetest.ReleaseSpec{Tag: "v0.9", Name: "draft", Draft: true})
			b.f.AddRelease(src.owner, "proj", forgetest.ReleaseSpec{Tag: "nightly", Name: "Nightly"})
			sizes := map[string]int64{"a.bin": 1 << 10, "b.tar.gz": 300 << 10, "c.zip": limit + 1, "d.txt": 700 << 10}
			want := map[string]string{}
			for i, file := range []string{"a.bin", "b.tar.gz", "c.zip", "d.txt"} {
				want[file] = f.AddReleaseAsset(src.owner, "proj", "v1.0", file, content(uint64(i), sizes[file]))
			}
			want["e.bin"] = f.AddReleaseAsset(src.owner, "proj", "v1.1-rc1", "e.bin", content(9, 200<<10))
			f.AddReleaseAsset(src.owner, "proj", "v0.9", "draft.bin", content(10, 10))
			f.AddReleaseAsset(src.owner, "proj", "nightly", "n.bin", content(11, 10))

			refs := b.mirrorRefs(t, src, dst, []string{"v*"})
			f.SetRef(dst.owner, "proj", "refs/tags/legacy", f.Refs(dst.owner, "proj")["refs/tags/v1.0"])
			f.AddRelease(dst.owner, "proj", forgetest.ReleaseSpec{Tag: "legacy", Name: "Target's own"})
			f.FailAssetUploads(2, tc.failStatus)

			// First run, one asset at a time so that the first asset is the
			// one whose upload fails twice.
			res := syncReleases(t, src, dst, release.TagsFrom(refs), limit, func(o *release.Options) { o.Parallel = 1 })
			if !res.OK() {
				t.Fatalf("first run not OK: %+v", res.Releases)
			}
			if got, want := res.Changed(), 2; got != want {
				t.Errorf("Changed() = %d, want %d", got, want)
			}
			if res.Drafts != tc.drafts || res.Kept != 1 {
				t.Errorf("Drafts, Kept = %d, %d; want %d, 1", res.Drafts, res.Kept, tc.drafts)
			}
			if r := byTag(t, res, "v1.0"); r.Outcome != release.Created {
				t.Errorf("v1.0: %s, want created", r.Outcome)
			}
			if r := byTag(t, res, "nightly"); r.Outcome != release.Skipped || !strings.Contains(r.Message, "not mirrored") {
				t.Errorf("nightly: %s %q, want skipped because its tag is not mirrored", r.Outcome, r.Message)
			}
			attempts, retried := 0, 0
			for _, rel := range res.Releases {
				for _, a := range rel.Assets {
					noSecrets(t, a.Message)
					attempts += a.Attempts
					if a.Attempts == 3 {
						retried++
					}
					if a.Name == "c.zip" && (a.Outcome != release.Skipped || !strings.Contains(a.Message, "c.zip") || !strings.Contains(a.Message, "1048577 bytes")) {
						t.Errorf("c.zip: %s %q, want skipped with its name and size", a.Outcome, a.Message)
					}
				}
			}
			if attempts != 4+2 || retried != 1 {
				t.Errorf("upload attempts = %d with %d asset tried 3 times; want 6 and 1 (one asset failing twice)", attempts, retried)
			}
			if res.Uploaded != 4 {
				t.Errorf("Uploaded = %d, want 4", res.Uploaded)
			}
			checkTarget(t, f, dst.owner, want, "Notes\r\nline 2")
			if n := f.ReleaseStats().StorageCredentials; n != 0 {
				t.Errorf("%d storage requests carried a token", n)
			}

			// Second run: nothing to do.
			before := f.ReleaseStats().Uploads
			res = syncReleases(t, src, dst, release.TagsFrom(refs), limit)
			if res.Uploaded != 0 || res.Changed() != 0 || f.ReleaseStats().Uploads != before {
				t.Errorf("second run uploaded %d (forge: %d) and changed %d releases; want none", res.Uploaded, f.ReleaseStats().Uploads-before, res.Changed())
			}

			// An edited note is carried over, and nothing else moves.
			f.EditRelease(src.owner, "proj", "v1.0", "First!", "new notes")
			res = syncReleases(t, src, dst, release.TagsFrom(refs), limit)
			if r := byTag(t, res, "v1.0"); r.Outcome != release.Updated || res.Changed() != 1 || res.Uploaded != 0 {
				t.Errorf("after the edit: v1.0 %s, %d changed, %d uploaded; want updated, 1, 0", r.Outcome, res.Changed(), res.Uploaded)
			}
			for _, r := range f.Releases(dst.owner, "proj") {
				if r.Tag == "v1.0" && (r.Name != "First!" || r.Body != "new notes") {
					t.Errorf("target's v1.0 = %q %q after the edit", r.Name, r.Body)
				}
			}
		})
	}
}

// checkTarget compares the target's releases with what the rules want.
func checkTarget(t *testing.T, f *forgetest.Forge, owner string, want map[string]string, notes string) {
	t.Helper()
	got := map[string]forgetest.ReleaseInfo{}
	for _, r := range f.Releases(owner, "proj") {
		got[r.Tag] = r
	}
	if len(got) != 3 {
		t.Errorf("target has releases %v, want v1.0, v1.1-rc1 and legacy", got)
	}
	if r := got["v1.0"]; r.Name != "First" || r.Body != notes || r.Prerelease {
		t.Errorf("v1.0 on the target: %+v", r.ReleaseSpec)
	}
	if r := got["v1.1-rc1"]; r.Name != "v1.1-rc1" || !r.Prerelease || r.Body != "release candidate" {
		t.Errorf("v1.1-rc1 on the target: %+v", r.ReleaseSpec)
	}
	if _, ok := got["legacy"]; !ok {
		t.Error("the target's own release was removed")
	}
	assets := map[string]string{}
	for _, r := range got {
		for _, a := range r.Assets {
			assets[a.Name] = a.SHA256
		}
	}
	for name, sum := range want {
		if name == "c.zip" {
			if _, ok := assets[name]; ok {
				t.Errorf("c.zip, over the limit, was uploaded")
			}
			continue
		}
		if assets[name] != sum {
			t.Errorf("asset %s on the target: sha256 %q, want %q", name, assets[name], sum)
		}
	}
}
