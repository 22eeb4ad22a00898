package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// TestE2ELFS: with lfs: true in the settings file, the Git LFS objects of
// the pushed commits reach Gitee, byte for byte, with the refs that need
// them; a later push sends only its new object.
func TestE2ELFS(t *testing.T) {
	t.Parallel()
	if err := exec.Command("git", "lfs", "version").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("git lfs is not installed (.ci/run installs git-lfs): %v", err)
		}
		t.Skip("git lfs is not installed")
	}
	e := newE2E(t, nil)
	e.f.SetRepo(e2eOwner, "big", forgetest.RepoMeta{})
	e.install()
	e.repoWork("big").LFSTrack("*.bin")
	e.push("big", map[string]string{e2eConfigPath: "target: acme/big\nlfs: true\n", "model.bin": strings.Repeat("weights;", 40_000)})
	m := e.mirrorTo("big", "big")
	if m.LFS != mirror.LFSCopy {
		t.Fatalf("mirror from the file: lfs %q, want %q", m.LFS, mirror.LFSCopy)
	}
	e.waitFor("the first sync mirrors octo/big", func() bool { return e.sameRefs(e2eOwner, "big", e2eGiteeOrg, "big") })
	e.idle()
	sameLFS := func(want int) {
		t.Helper()
		src := e.f.LFSObjects(e2eOwner, "big")
		if len(src) != want {
			t.Fatalf("GitHub holds %d LFS objects, want %d: the test pushed them with git lfs", len(src), want)
		}
		dst := e.f.LFSObjects(e2eGiteeOrg, "big")
		if len(dst) != len(src) {
			t.Errorf("Gitee holds %d LFS objects, want GitHub's %d", len(dst), len(src))
		}
		for oid := range src {
			want, _ := os.ReadFile(e.f.LFSObjectPath(e2eOwner, "big", oid))
			got, err := os.ReadFile(e.f.LFSObjectPath(e2eGiteeOrg, "big", oid))
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("Gitee's LFS object %.12s: %d bytes, %v; want GitHub's %d", oid, len(got), err, len(want))
			}
		}
	}
	sameLFS(1)

	e.f.ResetLFSStats()
	e.push("big", map[string]string{"data.bin": strings.Repeat("table;", 30_000)})
	e.waitFor("the second push is on Gitee", func() bool { return e.sameRefs(e2eOwner, "big", e2eGiteeOrg, "big") })
	e.idle()
	sameLFS(2)
	// git lfs uploaded the new object to GitHub; the App copied that one
	// alone: one download from GitHub, one upload to Gitee.
	if st := e.f.LFSStats(); st.Downloads != 1 || st.Uploads != 2 {
		t.Errorf("LFS traffic of the second push: %d downloads, %d uploads; want 1 and 2", st.Downloads, st.Uploads)
	}
	if got := e.mirror(m.ID); got.Status != store.StatusInSync {
		t.Errorf("status %s (%s), want in sync", got.Status, got.LastError)
	}
	e.checkCanaries()
}
