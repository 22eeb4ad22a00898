package githubapp_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/githubapp"
)

const relToken = "ghp-releases-CANARY"

func releaseForge(t *testing.T) (*forgetest.Forge, *githubapp.Client) {
	t.Helper()
	f := forgetest.New(t)
	f.AddUser("alice", relToken)
	f.CreateRepo("alice", "proj")
	f.Grant("alice", "alice", "proj", forgetest.Write)
	c, err := githubapp.NewWithToken(relToken, githubapp.Options{APIURL: f.GitHubAPIURL(), GitURL: f.BaseURL(), Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

// The whole release API round trip against the forge: create, find by
// tag, upload to upload_url, list with digests, download through the
// storage redirect without the token, update, delete.
func TestReleasesRoundTrip(t *testing.T) {
	t.Parallel()
	f, c := releaseForge(t)
	ctx := context.Background()
	f.SetRef("alice", "proj", "refs/tags/v1", gitCommit(t, f.RepoPath("alice", "proj")))
	r, err := c.CreateRelease(ctx, "alice", "proj", forge.ReleaseInput{TagName: "v1", Name: "One", Body: "notes", Prerelease: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.UploadURL, "/api/uploads/") {
		t.Errorf("UploadURL = %q, want the uploads endpoint", r.UploadURL)
	}
	if _, err := c.CreateRelease(ctx, "alice", "proj", forge.ReleaseInput{TagName: "v1", Name: "again"}); failure.ClassOf(err) != failure.Invalid || !strings.Contains(err.Error(), "already_exists") {
		t.Errorf("second release of v1: %v; want invalid, already_exists", err)
	}
	got, err := c.GetReleaseByTag(ctx, "alice", "proj", "v1")
	if err != nil || got.ID != r.ID || got.Name != "One" || !got.Prerelease {
		t.Fatalf("GetReleaseByTag = %+v, %v", got, err)
	}
	if _, err := c.GetReleaseByTag(ctx, "alice", "proj", "nope"); failure.ClassOf(err) != failure.NotFound {
		t.Errorf("release of a missing tag: %v, want not-found", err)
	}
	data := bytes.Repeat([]byte("asset "), 50000)
	a, err := c.UploadAsset(ctx, "alice", "proj", r, forge.AssetUpload{Name: "a.bin", Size: int64(len(data))}, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	list, err := c.ListAssets(ctx, "alice", "proj", r)
	if err != nil || len(list) != 1 || list[0].Size != int64(len(data)) || !strings.HasPrefix(list[0].Digest, "sha256:") {
		t.Fatalf("ListAssets = %+v, %v", list, err)
	}
	rc, err := c.DownloadAsset(ctx, "alice", "proj", r, a)
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
	if _, err := c.UpdateRelease(ctx, "alice", "proj", r.ID, forge.ReleaseInput{TagName: "v1", Name: "One!", Body: "more"}); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteAsset(ctx, "alice", "proj", r, a); err != nil {
		t.Fatal(err)
	}
	rels, err := c.ListReleases(ctx, "alice", "proj")
	if err != nil || len(rels) != 1 || rels[0].Name != "One!" || rels[0].Prerelease {
		t.Errorf("ListReleases = %+v, %v", rels, err)
	}
	if info := f.Releases("alice", "proj"); len(info[0].Assets) != 0 {
		t.Errorf("asset not deleted: %+v", info)
	}
}

// An upload_url on another host than the configured uploads host is not
// used: the token would go there.
func TestUploadURLOnAnotherHostRefused(t *testing.T) {
	t.Parallel()
	f, c := releaseForge(t)
	before := f.APIStats().GitHub
	r := &forge.Release{ID: 1, TagName: "v1", UploadURL: "https://uploads.evil.example/repos/alice/proj/releases/1/assets{?name,label}"}
	_, err := c.UploadAsset(context.Background(), "alice", "proj", r, forge.AssetUpload{Name: "x", Size: 1}, strings.NewReader("x"))
	if failure.ClassOf(err) != failure.Rejected || strings.Contains(err.Error(), relToken) {
		t.Errorf("err = %v, want rejected without the token", err)
	}
	if f.APIStats().GitHub != before {
		t.Error("a request was made")
	}
}

// roundTripFunc is an http.RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// On github.com, assets go to uploads.github.com with the token, which
// the token transport otherwise keeps to the API host.
func TestUploadGoesToUploadsHostWithToken(t *testing.T) {
	t.Parallel()
	var got *http.Request
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r
		body := `{"id":7,"name":"a.bin","state":"uploaded","size":1,"digest":"sha256:00"}`
		return &http.Response{StatusCode: http.StatusCreated, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
	})
	c, err := githubapp.NewWithToken(relToken, githubapp.Options{Transport: rt, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	r := &forge.Release{ID: 1, TagName: "v1", UploadURL: "https://uploads.github.com/repos/o/r/releases/1/assets{?name,label}"}
	a, err := c.UploadAsset(context.Background(), "o", "r", r, forge.AssetUpload{Name: "a b.bin", Size: 1}, strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	if got.URL.Host != "uploads.github.com" || got.URL.Query().Get("name") != "a b.bin" || got.Header.Get("Authorization") != "Bearer "+relToken || got.ContentLength != 1 {
		t.Errorf("upload request %s %v, auth sent %v, length %d", got.Method, got.URL, got.Header.Get("Authorization") != "", got.ContentLength)
	}
	if a.ID != 7 || a.Digest != "sha256:00" {
		t.Errorf("asset %+v", a)
	}
}

// Listing follows GitHub's pagination (Link headers) past 100 releases.
func TestListReleasesPaginates(t *testing.T) {
	t.Parallel()
	f, c := releaseForge(t)
	for i := range 130 {
		f.AddRelease("alice", "proj", forgetest.ReleaseSpec{Tag: fmt.Sprintf("v%d", i), Name: "r"})
	}
	rels, err := c.ListReleases(context.Background(), "alice", "proj")
	if err != nil || len(rels) != 130 || rels[0].TagName != "v129" {
		t.Fatalf("ListReleases: %d releases (first %v), %v; want 130, newest first", len(rels), rels[0], err)
	}
}
