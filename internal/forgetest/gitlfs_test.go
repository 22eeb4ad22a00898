package forgetest_test

import (
	"bytes"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
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

// TestGitLFSRoundTrip checks the forge's LFS server against the real git
// lfs client: objects pushed with git lfs come back byte-identical in a
// fresh clone, and the client used the storage links' tickets.
func TestGitLFSRoundTrip(t *testing.T) {
	t.Parallel()
	needGitLFS(t)
	f := forgetest.New(t)
	f.AddUser("admin", "admin-token-1234")
	f.CreateRepo("gh", "lfs")
	f.Grant("admin", "gh", "*", forgetest.Write)
	url := f.GitURL("gh", "lfs")

	w := forgetest.NewWork(t)
	w.LFSTrack("*.bin")
	big := make([]byte, 3<<20)
	_, _ = rand.Read(big)
	small := []byte("a small LFS object\n")
	w.Commit("objects", map[string]string{"big.bin": string(big), "dir/small.bin": string(small), "readme.txt": "not LFS\n"})
	if _, err := w.Git("admin", "admin-token-1234", "push", "-q", url, "main"); err != nil {
		t.Fatalf("git push: %v", err)
	}
	if got := len(f.LFSObjects("gh", "lfs")); got != 2 {
		t.Fatalf("forge stores %d LFS objects, want 2", got)
	}
	st := f.LFSStats()
	if st.Uploads != 2 || st.BasicAuthStorage != 0 {
		t.Errorf("stats after push = %+v, want 2 uploads through tickets", st)
	}

	c, err := forgetest.CloneLFS(t, url, "admin", "admin-token-1234")
	if err != nil {
		t.Fatalf("clone: %v", err)
	}
	for name, want := range map[string][]byte{"big.bin": big, "dir/small.bin": small} {
		got, err := os.ReadFile(filepath.Join(c.Dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: git lfs fetched %d bytes that differ from the %d pushed", name, len(got), len(want))
		}
	}
}
