package gitee_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/gitee"
)

const relToken = "gitee-releases-CANARY+/="

func releaseForge(t *testing.T) (*forgetest.Forge, *gitee.Client) {
	t.Helper()
	f := forgetest.New(t)
	f.AddUser("bob", relToken)
	f.CreateRepo("bob", "proj")
	f.Grant("bob", "bob", "proj", forgetest.Write)
	f.SetRepo("bob", "proj", forgetest.RepoMeta{Private: true})
	c, err := gitee.New(gitee.Config{BaseURL: f.GiteeAPIURL(), Token: relToken, Retry: gitee.RetryPolicy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	dir := f.RepoPath("bob", "proj")
	tree := git(t, dir, "hash-object", "-t", "tree", "-w", "--stdin")
	f.SetRef("bob", "proj", "refs/tags/v1", git(t, dir, "commit-tree", tree, "-m", "c"))
	return f, c
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader("")
	cmd.Env = []string{"GIT_CONFIG_NOSYSTEM=1", "HOME=" + t.TempDir(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com"}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}

// The release API round trip against the forge, on a private repository:
// create, find by tag, multipart upload, list, download (the token goes to
// Gitee's own host, not to storage), update, delete.
func TestReleasesRoundTrip(t *testing.T) {
	t.Parallel()
	f, c := releaseForge(t)
	ctx := context.Background()
	r, err := c.CreateRelease(ctx, "bob", "proj", forge.ReleaseInput{TagName: "v1", Name: "One", Body: "notes", Prerelease: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateRelease(ctx, "bob", "proj", forge.ReleaseInput{TagName: "v1", Name: "again", Body: "x"}); failure.ClassOf(err) != failure.Invalid {
		t.Errorf("second release of v1: %v; want invalid", err)
	}
	if _, err := c.CreateRelease(ctx, "bob", "proj", forge.ReleaseInput{TagName: "nope", Name: "x", Body: "x"}); failure.ClassOf(err) != failure.Invalid || !strings.Contains(err.Error(), "Tag 不存在") {
		t.Errorf("release of a missing tag: %v; want Gitee's refusal", err)
	}
	got, err := c.GetReleaseByTag(ctx, "bob", "proj", "v1")
	if err != nil || got.ID != r.ID || got.Name != "One" || !got.Prerelease || got.Body != "notes" {
		t.Fatalf("GetReleaseByTag = %+v, %v", got, err)
	}
	if _, err := c.GetReleaseByTag(ctx, "bob", "proj", "v2"); failure.ClassOf(err) != failure.NotFound {
		t.Errorf("release of another tag: %v, want not-found", err)
	}
	data := bytes.Repeat([]byte("attach "), 40000)
	a, err := c.UploadAsset(ctx, "bob", "proj", r, forge.AssetUpload{Name: "a b.bin", Size: int64(len(data))}, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "a b.bin" || a.Size != int64(len(data)) || a.DownloadURL == "" {
		t.Errorf("uploaded asset = %+v", a)
	}
	list, err := c.ListAssets(ctx, "bob", "proj", r)
	if err != nil || len(list) != 1 || list[0].ID != a.ID {
		t.Fatalf("ListAssets = %+v, %v", list, err)
	}
	rc, err := c.DownloadAsset(ctx, "bob", "proj", r, a)
	if err != nil {
		t.Fatal(err)
	}
	back, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(back, data) {
		t.Errorf("downloaded %d bytes (%v), want the %d uploaded", len(back), err, len(data))
	}
	if n := f.ReleaseStats().StorageCredentials; n != 0 {
		t.Errorf("the token went to storage %d times", n)
	}
	if _, err := c.UpdateRelease(ctx, "bob", "proj", r.ID, forge.ReleaseInput{TagName: "v1", Name: "One!", Body: "more"}); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteAsset(ctx, "bob", "proj", r, a); err != nil {
		t.Fatal(err)
	}
	rels, err := c.ListReleases(ctx, "bob", "proj")
	if err != nil || len(rels) != 1 || rels[0].Name != "One!" || rels[0].Body != "more" || rels[0].Prerelease {
		t.Errorf("ListReleases = %+v, %v", rels, err)
	}
}

// Upload failures: Gitee's size refusal and a server error come back
// classified, with Gitee's words and without the token.
func TestUploadFailures(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		arm       func(f *forgetest.Forge)
		class     failure.Class
		wantWords string
	}{
		"over the limit": {arm: func(f *forgetest.Forge) { f.SetGiteeAssetLimit(100) }, class: failure.Invalid, wantWords: "attachment larger than 100 B"},
		"server error":   {arm: func(f *forgetest.Forge) { f.FailAssetUploads(1, 502) }, class: failure.Network, wantWords: "502"},
		"dropped":        {arm: func(f *forgetest.Forge) { f.FailAssetUploads(1, 0) }, class: failure.Network},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, c := releaseForge(t)
			ctx := context.Background()
			r, err := c.CreateRelease(ctx, "bob", "proj", forge.ReleaseInput{TagName: "v1", Name: "One", Body: "notes"})
			if err != nil {
				t.Fatal(err)
			}
			tc.arm(f)
			data := make([]byte, 64<<10)
			_, err = c.UploadAsset(ctx, "bob", "proj", r, forge.AssetUpload{Name: "a.bin", Size: int64(len(data))}, bytes.NewReader(data))
			if failure.ClassOf(err) != tc.class || !strings.Contains(err.Error(), tc.wantWords) {
				t.Errorf("err = %v; want %s with %q", err, tc.class, tc.wantWords)
			}
			if err != nil && strings.Contains(err.Error(), "CANARY") {
				t.Errorf("the token leaked: %v", err)
			}
			if info := f.Releases("bob", "proj"); len(info[0].Assets) != 0 {
				t.Errorf("a failed upload left %+v", info[0].Assets)
			}
		})
	}
}

// Listing follows Gitee's pagination (total_page) past 100 releases.
func TestListReleasesPaginates(t *testing.T) {
	t.Parallel()
	f, c := releaseForge(t)
	for i := range 130 {
		f.AddRelease("bob", "proj", forgetest.ReleaseSpec{Tag: fmt.Sprintf("t%d", i), Name: "r"})
	}
	rels, err := c.ListReleases(context.Background(), "bob", "proj")
	if err != nil || len(rels) != 130 {
		t.Fatalf("ListReleases: %d releases, %v; want 130", len(rels), err)
	}
}
