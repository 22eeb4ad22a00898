package lfs_test

import (
	"bytes"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/lfs"
)

// needGitLFS skips a test when Debian's git-lfs is not installed, except in
// CI, which installs it (.ci/run) and must not skip.
func needGitLFS(t *testing.T) {
	t.Helper()
	if err := exec.Command("git", "lfs", "version").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("git lfs is not installed (.ci/run installs git-lfs): %v", err)
		}
		t.Skip("git lfs is not installed")
	}
}

// TestGitLFSInterop copies objects that the real git lfs client pushed to
// the source, and checks that git lfs fetches them back from the target
// byte-identical: the product and git lfs read and write the same API.
func TestGitLFSInterop(t *testing.T) {
	b := setup(t)
	needGitLFS(t)
	files := map[string][]byte{"a.bin": make([]byte, 2<<20), "sub/b.bin": make([]byte, 1), "c.bin": make([]byte, 300_000)}
	w := forgetest.NewWork(t)
	w.LFSTrack("*.bin")
	content := map[string]string{}
	for name, d := range files {
		_, _ = rand.Read(d)
		content[name] = string(d)
	}
	w.Commit("objects", content)
	if _, err := w.Git("admin", adminToken, "push", "-q", b.forge.GitURL("gh", "proj"), "main"); err != nil {
		t.Fatalf("git push with git lfs: %v", err)
	}
	// The commits reach the target without their objects: a plain clone
	// has no LFS hooks.
	plain, err := forgetest.Clone(t, b.forge.GitURL("gh", "proj"), "admin", adminToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.Push(b.forge.GitURL("ge", "proj"), "admin", adminToken, "main"); err != nil {
		t.Fatal(err)
	}
	var ps []lfs.Pointer
	for name := range files {
		blob, err := os.ReadFile(filepath.Join(plain.Dir, name))
		if err != nil {
			t.Fatal(err)
		}
		p, err := lfs.ParsePointer(blob)
		if err != nil {
			t.Fatalf("%s in the repository is not a pointer written by git lfs: %v", name, err)
		}
		ps = append(ps, p)
	}

	rep := b.copy(t, ps)
	if rep.Uploaded != len(files) || !rep.Complete() {
		t.Fatalf("report = %+v", rep)
	}
	back, err := forgetest.CloneLFS(t, b.forge.GitURL("ge", "proj"), "admin", adminToken)
	if err != nil {
		t.Fatalf("git lfs pull from the target: %v", err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(back.Dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: git lfs fetched %d bytes from the target that differ from the %d pushed", name, len(got), len(want))
		}
	}
}
