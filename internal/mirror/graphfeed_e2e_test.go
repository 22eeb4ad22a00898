package mirror_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// bigHistory adds n commits to main in the bundle's work tree with git
// fast-import, each changing two files under d/, so that the history has
// about 5n objects: enough for the relay to feed the commit graph apart.
// It returns the commit ids, oldest first.
func bigHistory(t *testing.T, b *bundle, n int) []string {
	t.Helper()
	var in strings.Builder
	for i := range n {
		fmt.Fprintf(&in, "commit refs/heads/main\nmark :%d\ncommitter t <t@example.com> %d +0000\ndata 9\ncommit %02d\n", i+1, 1700000000+i, i%100)
		if i > 0 {
			fmt.Fprintf(&in, "from :%d\n", i)
		}
		for f := range 2 {
			body := fmt.Sprintf("file %d, version %d\n", (i+f)%40, i)
			fmt.Fprintf(&in, "M 100644 inline d/f%02d.txt\ndata %d\n%s\n", (i+f)%40, len(body), body)
		}
	}
	for i := range n {
		fmt.Fprintf(&in, "get-mark :%d\n", i+1)
	}
	cmd := exec.Command("git", "fast-import", "--quiet")
	cmd.Dir = b.work.Dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+t.TempDir())
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git fast-import: %v", err)
	}
	ids := strings.Fields(string(out))
	if len(ids) != n {
		t.Fatalf("fast-import gave %d ids, want %d", len(ids), n)
	}
	return ids
}

// TestGraphFedApart: the first mirror of a big history with a cache
// directory feeds the commit graph from a commits-only fetch beside the
// relay where the source serves filters, and from the relayed pack where
// it does not; either way the graph is complete, so that a later prune
// question about an old commit is answered without any fetch.
func TestGraphFedApart(t *testing.T) {
	for name, tc := range map[string]struct {
		filter    bool
		wantFetch int // upload-pack POSTs of the first mirror
	}{
		"source serves filters":  {filter: true, wantFetch: 2},
		"source without filters": {filter: false, wantFetch: 1},
	} {
		t.Run(name, func(t *testing.T) {
			b := setup(t)
			if !tc.filter {
				b.work.Run("config", "-f", b.forge.RepoPath("gh", "proj")+"/config", "uploadpack.allowFilter", "false")
			}
			ids := bigHistory(t, b, 500)
			b.work.Run("tag", "-a", "-m", "v1", "v1", ids[250])
			b.pushSource(t, "refs/heads/main:refs/heads/main", "refs/tags/v1:refs/tags/v1")
			opts := b.options()
			opts.CacheDir, opts.Prune = t.TempDir(), true

			b.forge.ResetStats()
			res := b.sync(t, opts)
			if o := outcome(res, "refs/heads/main"); o.Outcome != mirror.Created {
				t.Fatalf("main: %+v, want created", o)
			}
			if st := b.forge.Stats(); st.UploadPackPOSTs != tc.wantFetch || st.ReceivePackPOSTs != 1 {
				t.Errorf("first mirror made %d fetches and %d pushes, want %d and 1", st.UploadPackPOSTs, st.ReceivePackPOSTs, tc.wantFetch)
			}
			b.assertInSync(t)

			// A branch only the target has, at an old commit of main:
			// prune deletes it when the graph shows it is reachable.
			b.pushTarget(t, ids[3]+":refs/heads/old")
			b.forge.ResetStats()
			res = b.sync(t, opts)
			if o := outcome(res, "refs/heads/old"); o.Outcome != mirror.Deleted {
				t.Errorf("old: %+v, want deleted (reachable from main)", o)
			}
			if st := b.forge.Stats(); st.UploadPackPOSTs != 0 {
				t.Errorf("the prune question cost %d fetches, want none: the graph was not fed completely", st.UploadPackPOSTs)
			}
			b.assertInSync(t)
		})
	}
}

// TestGraphFedBeforePush: a big pack whose ancestry must be known before
// the push (the target has refs) is answered from a commits-only fetch and
// relayed while it is still arriving; a fast-forward goes through, a
// diverged branch is left alone, and the target ends up with a clean
// repository.
func TestGraphFedBeforePush(t *testing.T) {
	b := setup(t)
	ids := bigHistory(t, b, 500)
	b.pushSource(t, "refs/heads/main:refs/heads/main", "refs/heads/main:refs/heads/dev")
	b.pushTarget(t, ids[10]+":refs/heads/main")
	b.work.Run("checkout", "-q", "-b", "mine", ids[10])
	b.work.Commit("target only", map[string]string{"x.txt": "x"})
	b.pushTarget(t, "refs/heads/mine:refs/heads/dev")
	dev := b.work.Rev("mine")

	opts := b.options()
	opts.CacheDir = t.TempDir()
	b.forge.ResetStats()
	res := b.sync(t, opts)
	if o := outcome(res, "refs/heads/main"); o.Outcome != mirror.Updated {
		t.Errorf("main: %+v, want updated (a fast-forward)", o)
	}
	if o := outcome(res, "refs/heads/dev"); o.Outcome != mirror.Diverged {
		t.Errorf("dev: %+v, want diverged", o)
	}
	// The relay, the commits apart, and one exact (filtered) fetch for dev,
	// whose fork point the first two do not hold.
	if st := b.forge.Stats(); st.UploadPackPOSTs != 3 || st.ReceivePackPOSTs != 1 {
		t.Errorf("made %d fetches and %d pushes, want 3 and 1", st.UploadPackPOSTs, st.ReceivePackPOSTs)
	}
	if !strings.Contains(b.logs.String(), "read the commits apart") {
		t.Error("the pack was not fed apart (no log line): the test does not exercise that path")
	}
	refs := b.forge.Refs("ge", "proj")
	if refs["refs/heads/main"] != ids[len(ids)-1] || refs["refs/heads/dev"] != dev {
		t.Errorf("target main %s, dev %s; want %s and %s (untouched)", refs["refs/heads/main"], refs["refs/heads/dev"], ids[len(ids)-1], dev)
	}
	if err := b.forge.Fsck("ge", "proj"); err != nil {
		t.Errorf("fsck target: %v", err)
	}
}

// TestFewerHaves: with the graph cached, a sync asks the source for the new
// commits with the target's branch tip as the only "have", not with every
// tag behind it too.
func TestFewerHaves(t *testing.T) {
	b := setup(t)
	ids := bigHistory(t, b, 60)
	var refspecs []string
	for i := 0; i < 40; i++ {
		b.work.Run("tag", fmt.Sprintf("v%d", i), ids[i])
		refspecs = append(refspecs, fmt.Sprintf("refs/tags/v%d:refs/tags/v%d", i, i))
	}
	b.pushSource(t, append(refspecs, "refs/heads/main:refs/heads/main")...)
	opts := b.options()
	opts.CacheDir = t.TempDir()
	b.sync(t, opts)

	b.work.Run("checkout", "-q", "main")
	b.work.Commit("one more", map[string]string{"new.txt": "new"})
	b.pushSource(t, "refs/heads/main:refs/heads/main")
	b.forge.ResetStats()
	res := b.sync(t, opts)
	if o := outcome(res, "refs/heads/main"); o.Outcome != mirror.Updated {
		t.Fatalf("main: %+v, want updated", o)
	}
	// One want and one have line (about 200 bytes), not 41 haves (over 2 KB).
	if st := b.forge.Stats(); st.UploadPackPOSTs != 1 || st.UploadPackRequestBytes > 600 {
		t.Errorf("%d fetches, %d bytes asked; want 1 fetch of at most 600 bytes", st.UploadPackPOSTs, st.UploadPackRequestBytes)
	}
	b.assertInSync(t)
}
