package localgit_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/localgit"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// workRepo makes a work tree with n commits on main, a branch and a tag,
// with go-git only.
func workRepo(t *testing.T, n int) (string, *git.Repository) {
	t.Helper()
	dir := t.TempDir()
	r, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{InitOptions: git.InitOptions{DefaultBranch: plumbing.Main}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		commit(t, r, dir, "file.txt", string(rune('a'+i)))
	}
	head, _ := r.Head()
	if err := r.Storer.SetReference(plumbing.NewHashReference("refs/heads/feature", head.Hash())); err != nil {
		t.Fatal(err)
	}
	if _, err := r.CreateTag("v1", head.Hash(), &git.CreateTagOptions{Message: "v1", Tagger: sig()}); err != nil {
		t.Fatal(err)
	}
	return dir, r
}

func sig() *object.Signature {
	return &object.Signature{Name: "Demo", Email: "demo@example.com", When: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func commit(t *testing.T, r *git.Repository, dir, name, content string) plumbing.Hash {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	wt, err := r.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wt.Add(name); err != nil {
		t.Fatal(err)
	}
	h, err := wt.Commit("change "+content, &git.CommitOptions{Author: sig()})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func refs(t *testing.T, r *git.Repository) map[string]string {
	t.Helper()
	out := map[string]string{}
	it, err := r.References()
	if err != nil {
		t.Fatal(err)
	}
	_ = it.ForEach(func(ref *plumbing.Reference) error {
		if ref.Type() == plumbing.HashReference && (ref.Name().IsBranch() || ref.Name().IsTag()) {
			out[ref.Name().String()] = ref.Hash().String()
		}
		return nil
	})
	return out
}

// TestMirrorBetweenLocalRepositories: the sync core mirrors one local work
// tree into a local bare repository through the server, incrementally, and
// a second sync is a no-op.
func TestMirrorBetweenLocalRepositories(t *testing.T) {
	t.Parallel()
	srcDir, src := workRepo(t, 3)
	dstDir := t.TempDir()
	dst, err := git.PlainInit(dstDir, true)
	if err != nil {
		t.Fatal(err)
	}
	s, err := localgit.Start(srcDir, dstDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	opts := mirror.Options{Source: mirror.Endpoint{URL: s.URL(0)}, Target: mirror.Endpoint{URL: s.URL(1)}, Prune: true, RetryDelay: time.Millisecond}
	sync := func() *mirror.Result {
		t.Helper()
		res, err := mirror.Sync(context.Background(), opts)
		if err != nil {
			t.Fatalf("Sync: %v", err)
		}
		if !res.OK() {
			t.Fatalf("not OK: %+v", res)
		}
		return res
	}
	if res := sync(); res.Count(mirror.Created) != 3 {
		t.Errorf("first sync: %+v, want 3 refs created", res.Refs)
	}
	if got, want := refs(t, dst), refs(t, src); len(got) != 3 || !equal(got, want) {
		t.Errorf("destination refs %v, want %v", got, want)
	}
	// One more commit: an incremental fetch (haves) and a fast-forward.
	commit(t, src, srcDir, "file.txt", "z")
	if res := sync(); res.Count(mirror.Updated) != 1 {
		t.Errorf("second sync: %+v, want main updated", res.Refs)
	}
	if got, want := refs(t, dst), refs(t, src); !equal(got, want) {
		t.Errorf("destination refs %v, want %v", got, want)
	}
	if _, err := dst.CommitObject(plumbing.NewHash(refs(t, dst)["refs/heads/main"])); err != nil {
		t.Errorf("the new commit is not readable on the destination: %v", err)
	}
	if res := sync(); !res.NoOp {
		t.Errorf("third sync not a no-op: %+v", res)
	}
	// A branch deleted on the source is pruned: a push without a pack.
	if err := src.Storer.RemoveReference("refs/heads/feature"); err != nil {
		t.Fatal(err)
	}
	if res := sync(); res.Count(mirror.Deleted) != 1 {
		t.Errorf("prune: %+v, want feature deleted", res.Refs)
	}
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestPushChecksOldValue: an update whose old value is not the ref's is
// refused ("stale info"), never applied: go-git's receive-pack alone would
// overwrite the ref.
func TestPushChecksOldValue(t *testing.T) {
	t.Parallel()
	dir, r := workRepo(t, 2)
	before := refs(t, r)
	s, err := localgit.Start(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	wrongOld := strings.Repeat("1", 40)
	cmd := wrongOld + " " + before["refs/heads/feature"] + " refs/heads/main\x00report-status\n"
	body := fmt.Sprintf("%04x%s0000", len(cmd)+4, cmd)
	resp, err := http.Post(s.URL(0)+"/git-receive-pack", "application/x-git-receive-pack-request", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(out), "ng refs/heads/main stale info") {
		t.Errorf("report %q, want main refused as stale", out)
	}
	if got := refs(t, r); !equal(got, before) {
		t.Errorf("refs changed to %v, want %v", got, before)
	}
}

// TestProtocolV2Refused: a protocol version 2 request (here ls-refs) gets
// what git's upload-pack without version 2 answers, nothing, with success:
// the sync core takes that for "version 0 only" and lists in version 0.
func TestProtocolV2Refused(t *testing.T) {
	t.Parallel()
	dir, _ := workRepo(t, 1)
	s, err := localgit.Start(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	body := "0014command=ls-refs\n0001001bref-prefix refs/heads/\n0000"
	req, err := http.NewRequest(http.MethodPost, s.URL(0)+"/git-upload-pack", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Git-Protocol", "version=2")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || len(out) != 0 {
		t.Errorf("answer %d %q, want 200 and nothing", resp.StatusCode, out)
	}
}
