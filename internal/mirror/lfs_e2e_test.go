package mirror_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
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

// lfsBundle is a bundle whose work tree keeps *.bin in Git LFS; pushes to
// the source upload the objects there with git lfs.
func lfsBundle(t *testing.T) (*bundle, mirror.Options) {
	t.Helper()
	b := setup(t)
	needGitLFS(t)
	b.work.LFSTrack("*.bin")
	opts := b.options()
	opts.LFS = mirror.LFSCopy
	return b, opts
}

// blob makes distinct content of n bytes.
func blob(name string, n int) string {
	unit := "LFS object " + name + ";"
	return strings.Repeat(unit, n/len(unit)+1)[:n]
}

// assertLFSMirrored checks that the target holds, byte for byte, every
// object the source holds.
func (b *bundle) assertLFSMirrored(t *testing.T) {
	t.Helper()
	src := b.forge.LFSObjects("gh", "proj")
	if len(src) == 0 {
		t.Fatal("the source has no LFS objects: the test pushed none")
	}
	for oid := range src {
		want, _ := os.ReadFile(b.forge.LFSObjectPath("gh", "proj", oid))
		got, err := os.ReadFile(b.forge.LFSObjectPath("ge", "proj", oid))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("target's LFS object %s: %d bytes, %v; want the source's %d", oid[:12], len(got), err, len(want))
		}
	}
}

func TestLFSFirstMirrorThenIncremental(t *testing.T) {
	b, opts := lfsBundle(t)
	w := b.work
	w.Commit("first", map[string]string{"a.bin": blob("a1", 5000), "readme": "hi"})
	w.Commit("second", map[string]string{"a.bin": blob("a2", 6000), "dir/b.bin": blob("b", 70_000)})
	w.Branch("side")
	w.Commit("on a side branch", map[string]string{"c.bin": blob("c", 10)})
	w.Tag("v1", "side", true)
	b.pushSource(t, "main", "side", "v1")

	res := b.sync(t, opts)
	b.assertInSync(t)
	b.assertLFSMirrored(t)
	// a1 is only in history, a2, b and c at tips.
	if l := res.LFS; l == nil || l.Objects != 4 || l.Uploaded != 4 || l.Missing != 0 || !res.OK() {
		t.Fatalf("LFS report = %+v, want 4 objects uploaded", res.LFS)
	}

	b.forge.ResetLFSStats()
	res = b.sync(t, opts)
	if !res.NoOp || res.LFS != nil {
		t.Errorf("second run: noop=%v LFS=%+v, want nothing to do", res.NoOp, res.LFS)
	}
	if st := b.forge.LFSStats(); st != (forgetest.LFSStats{}) {
		t.Errorf("second run made LFS requests: %+v", st)
	}

	w.Checkout("main")
	w.Commit("two new objects", map[string]string{"d.bin": blob("d", 300), "e.bin": blob("e", 400), "a.bin": blob("a2", 6000)})
	b.pushSource(t, "main")
	b.forge.ResetLFSStats()
	res = b.sync(t, opts)
	if l := res.LFS; l == nil || l.Uploaded != 2 || l.UploadedBytes != 700 {
		t.Errorf("LFS report = %+v, want exactly the 2 new objects uploaded", res.LFS)
	}
	if st := b.forge.LFSStats(); st.Uploads != 2 || st.Downloads != 2 {
		t.Errorf("forge saw %+v, want 2 downloads and 2 uploads", st)
	}
	b.assertInSync(t)
	b.assertLFSMirrored(t)
}

func TestLFSTargetHasSome(t *testing.T) {
	b, opts := lfsBundle(t)
	b.work.Commit("three", map[string]string{"x.bin": blob("x", 100), "y.bin": blob("y", 200), "z.bin": blob("z", 300)})
	b.pushSource(t, "main")
	b.forge.PutLFSObject("ge", "proj", []byte(blob("y", 200)))
	res := b.sync(t, opts)
	if l := res.LFS; l == nil || l.Uploaded != 2 || l.Present != 1 || l.UploadedBytes != 400 {
		t.Fatalf("LFS report = %+v, want 2 uploaded, 1 present", res.LFS)
	}
	b.assertLFSMirrored(t)
}

func TestLFSTargetWithoutLFS(t *testing.T) {
	for _, mode := range []mirror.LFSMode{mirror.LFSCopy, mirror.LFSRequired} {
		t.Run(string(mode), func(t *testing.T) {
			b, opts := lfsBundle(t)
			opts.LFS = mode
			w := b.work
			w.Commit("plain", map[string]string{"readme": "no LFS here"})
			w.Branch("plain")
			w.Checkout("main")
			w.Commit("objects", map[string]string{"p.bin": blob("p", 1000), "q.bin": blob("q", 2000)})
			b.pushSource(t, "main", "plain")
			b.forge.DisableLFS("ge", "proj", http.StatusNotFound)

			res := b.sync(t, opts)
			l := res.LFS
			if l == nil || !l.NoLFS || l.Missing != 2 || l.MissingBytes != 3000 || l.Uploaded != 0 {
				t.Fatalf("LFS report = %+v, want 2 objects (3000 bytes) missing, no LFS", l)
			}
			if !strings.Contains(l.Reason, "no Git LFS storage") || res.OK() {
				t.Errorf("reason %q, OK=%v: want a clear reason and a result that is not OK", l.Reason, res.OK())
			}
			if got := outcome(res, "refs/heads/plain"); got.Outcome != mirror.Created || got.LFSMissing != 0 {
				t.Errorf("plain = %+v, want created, needing nothing", got)
			}
			main := outcome(res, "refs/heads/main")
			if main.LFSMissing != 2 {
				t.Errorf("main = %+v, want 2 LFS objects missing", main)
			}
			dst := mirrored(b.forge, "ge")
			switch mode {
			case mirror.LFSCopy:
				if main.Outcome != mirror.Created {
					t.Errorf("main = %+v, want created anyway", main)
				}
				b.assertInSync(t)
			case mirror.LFSRequired:
				if main.Outcome != mirror.Failed || main.Class != failure.Rejected || !strings.Contains(main.Message, "lfs: required") {
					t.Errorf("main = %+v, want held back", main)
				}
				if _, ok := dst["refs/heads/main"]; ok {
					t.Error("main was updated although its LFS objects are missing")
				}
			}
		})
	}
}

func TestLFSCorruptDownloadRetried(t *testing.T) {
	b, opts := lfsBundle(t)
	b.work.Commit("objects", map[string]string{"r.bin": blob("r", 50_000)})
	b.pushSource(t, "main")
	b.forge.CorruptNextLFSDownloads(forgetest.LFSFlipByte)
	b.forge.ResetLFSStats()
	res := b.sync(t, opts)
	if l := res.LFS; l == nil || l.Uploaded != 1 || !res.OK() {
		t.Fatalf("LFS report = %+v, want the object copied on a second try", res.LFS)
	}
	if st := b.forge.LFSStats(); st.Downloads != 2 || st.Uploads != 1 {
		t.Errorf("forge saw %+v, want the corrupt download refused and repeated", st)
	}
	b.assertLFSMirrored(t)
}

// TestLFSTwoWay: objects pushed on either side reach the other.
func TestLFSTwoWay(t *testing.T) {
	b, opts := twoWay(t)
	needGitLFS(t)
	opts.LFS = mirror.LFSCopy
	w := b.work
	w.LFSTrack("*.bin")
	w.Commit("base", map[string]string{"readme": "base"})
	w.Branch("other")
	w.Commit("on the target", map[string]string{"t.bin": blob("t", 4321)})
	b.pushTarget(t, "other")
	w.Checkout("main")
	w.Commit("on the source", map[string]string{"s.bin": blob("s", 1234)})
	b.pushSource(t, "main")

	res := b.sync(t, opts)
	if l := res.LFS; l == nil || l.Uploaded != 2 || !res.OK() {
		t.Fatalf("LFS report = %+v, want one object each way", res.LFS)
	}
	src, dst := b.forge.LFSObjects("gh", "proj"), b.forge.LFSObjects("ge", "proj")
	if len(src) != 2 || len(dst) != 2 {
		t.Errorf("source has %d LFS objects, target %d; want both 2", len(src), len(dst))
	}
}

// TestLFSSecretsNeverLeak: tokens and storage tickets stay out of logs and
// of the result, also when the target refuses.
func TestLFSSecretsNeverLeak(t *testing.T) {
	b, opts := lfsBundle(t)
	b.work.Commit("objects", map[string]string{"s.bin": blob("s", 100), "t.bin": blob("t", 100)})
	b.pushSource(t, "main")
	b.forge.FailNextLFSUploads(10, http.StatusInternalServerError)
	res := b.sync(t, opts)
	if res.LFS == nil || res.LFS.Missing != 2 {
		t.Fatalf("LFS report = %+v, want the failed uploads reported", res.LFS)
	}
	out, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	text := string(out) + b.logs.String() + fmt.Sprint(res.LFS)
	for _, secret := range []string{srcToken, dstToken, adminToken, "lfs-ticket-", "RemoteAuth"} {
		if strings.Contains(text, secret) {
			t.Errorf("a secret (%q) reached the result or the logs", secret)
		}
	}
}
