package mirror_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// seed gives the source a history with two branches, annotated and
// lightweight tags, a tag of a tag, and tags pointing at a tree and a blob.
func seed(t *testing.T, b *bundle) {
	t.Helper()
	w := b.work
	w.Commit("one", map[string]string{"a.txt": "1"})
	w.Commit("two", map[string]string{"b/c.txt": "2"})
	w.Branch("feature")
	w.Commit("feature work", map[string]string{"f.txt": "f"})
	w.Checkout("main")
	w.Commit("three", map[string]string{"a.txt": "3"})
	w.Tag("v1", "main~1", true)
	w.Tag("light", "main", false)
	w.Run("tag", "-a", "-m", "tag of a tag", "v1-signed", "v1")
	w.Run("tag", "tree-tag", "main^{tree}")
	w.Run("tag", "blob-tag", "main:a.txt")
	b.pushSource(t, "refs/heads/*:refs/heads/*", "refs/tags/*:refs/tags/*")
}

func TestFreshIncrementalNoop(t *testing.T) {
	b := setup(t)
	seed(t, b)

	res := b.sync(t, b.options())
	if !res.OK() || res.NoOp {
		t.Fatalf("first sync not OK or no-op: %+v", res)
	}
	if got, want := res.Count(mirror.Created), 7; got != want {
		t.Errorf("created %d refs, want %d: %+v", got, want, res.Refs)
	}
	b.assertInSync(t)

	// One new commit: a fast-forward, one pack.
	b.work.Commit("four", map[string]string{"a.txt": "4"})
	b.pushSource(t, "main")
	b.forge.ResetStats()
	res = b.sync(t, b.options())
	if got := outcome(res, "refs/heads/main").Outcome; got != mirror.Updated {
		t.Errorf("main = %q, want updated", got)
	}
	if got, want := len(res.Changed()), 1; got != want {
		t.Errorf("changed %d refs, want %d", got, want)
	}
	st := b.forge.Stats()
	if st.UploadPackPOSTs != 1 || st.ReceivePackPOSTs != 1 {
		t.Errorf("incremental sync made %d fetches and %d pushes, want 1 and 1", st.UploadPackPOSTs, st.ReceivePackPOSTs)
	}
	b.assertInSync(t)

	// Nothing new: no pack asked for or sent.
	b.forge.ResetStats()
	res = b.sync(t, b.options())
	if !res.NoOp || len(res.Changed()) != 0 {
		t.Errorf("second sync not a no-op: %+v", res)
	}
	st = b.forge.Stats()
	if st.UploadPackPOSTs != 0 || st.ReceivePackPOSTs != 0 {
		t.Errorf("no-op sync made %d fetches and %d pushes, want none", st.UploadPackPOSTs, st.ReceivePackPOSTs)
	}
}

func TestEmptyRepositories(t *testing.T) {
	b := setup(t)
	b.forge.ResetStats()
	res := b.sync(t, b.options())
	if !res.NoOp || len(res.Refs) != 0 {
		t.Errorf("empty to empty: %+v", res)
	}
	if st := b.forge.Stats(); st.UploadPackPOSTs+st.ReceivePackPOSTs != 0 {
		t.Errorf("empty repositories moved data: %+v", st)
	}
}

func TestDivergedKeptAndReported(t *testing.T) {
	b := setup(t)
	seed(t, b)
	b.sync(t, b.options())
	w := b.work
	// Someone commits on the target; the source moves on too.
	w.Commit("target only", map[string]string{"t.txt": "t"})
	b.pushTarget(t, "main")
	targetTip := w.Rev("main")
	w.Checkout("main~1")
	w.Branch("main")
	w.Commit("source only", map[string]string{"s.txt": "s"})
	w.Checkout("feature")
	w.Commit("feature moves", map[string]string{"f2.txt": "f"})
	b.pushSource(t, "+main", "feature")

	res := b.sync(t, b.options())
	main := outcome(res, "refs/heads/main")
	if main.Outcome != mirror.Diverged || main.Class != failure.Diverged {
		t.Errorf("main = %+v, want diverged", main)
	}
	if got := b.forge.Refs("ge", "proj")["refs/heads/main"]; got != targetTip {
		t.Errorf("target main = %s, want it kept at %s", got, targetTip)
	}
	if got := outcome(res, "refs/heads/feature").Outcome; got != mirror.Updated {
		t.Errorf("feature = %q, want updated despite main diverging", got)
	}
	if res.OK() {
		t.Error("result OK with a diverged ref")
	}

	// With force: the old target tip is backed up, then overwritten.
	opts := b.options()
	opts.Force = true
	res = b.sync(t, opts)
	main = outcome(res, "refs/heads/main")
	if main.Outcome != mirror.Forced || main.Backup == "" {
		t.Fatalf("main with force = %+v, want overwritten with a backup", main)
	}
	refs := b.forge.Refs("ge", "proj")
	if got := refs[main.Backup]; got != targetTip {
		t.Errorf("backup %s = %q, want %s", main.Backup, got, targetTip)
	}
	if len(res.Backups) != 1 || !strings.HasPrefix(res.Backups[0], "refs/mirror-backup/") {
		t.Errorf("backups = %v", res.Backups)
	}
	b.assertInSync(t)
}

func TestMovedTagIsDiverged(t *testing.T) {
	b := setup(t)
	seed(t, b)
	b.sync(t, b.options())
	w := b.work
	w.Run("tag", "-f", "light", "main~1")
	b.pushSource(t, "+refs/tags/light")
	// The target was never told: its tag is what we last synced, but
	// without state the core cannot know that, so it must not move it.
	res := b.sync(t, b.options())
	if got := outcome(res, "refs/tags/light").Outcome; got != mirror.Diverged {
		t.Errorf("moved tag = %q, want diverged", got)
	}
}

func TestRewrittenOnPurposeWithState(t *testing.T) {
	b := setup(t)
	seed(t, b)
	opts := b.options()
	opts.CacheDir = t.TempDir()
	b.sync(t, opts)
	old := b.work.Rev("main")
	b.work.Run("commit", "-q", "--amend", "-m", "three, reworded")
	b.pushSource(t, "+main")
	res := b.sync(t, opts)
	main := outcome(res, "refs/heads/main")
	if main.Outcome != mirror.Forced || main.Backup == "" {
		t.Fatalf("rewritten main = %+v, want overwritten with a backup", main)
	}
	if got := b.forge.Refs("ge", "proj")[main.Backup]; got != old {
		t.Errorf("backup = %q, want %s", got, old)
	}
	b.assertInSync(t)
}

func TestPruneSafeAndUnsafe(t *testing.T) {
	b := setup(t)
	seed(t, b)
	w := b.work
	b.sync(t, b.options())
	// "merged" is on the target only but its commit is on source main;
	// "unmerged" carries a commit the source never had.
	b.pushTarget(t, "main~1:refs/heads/merged")
	w.Checkout("main")
	w.Branch("unmerged")
	unmerged := w.Commit("only here", map[string]string{"u.txt": "u"})
	b.pushTarget(t, "unmerged")
	w.Run("tag", "-a", "-m", "gone", "gone-tag", "main~1")
	b.pushTarget(t, "refs/tags/gone-tag")

	opts := b.options()
	opts.Prune = true
	res := b.sync(t, opts)
	if got := outcome(res, "refs/heads/merged").Outcome; got != mirror.Deleted {
		t.Errorf("merged = %q, want deleted", got)
	}
	if got := outcome(res, "refs/tags/gone-tag").Outcome; got != mirror.Deleted {
		t.Errorf("annotated tag on a source commit = %q, want deleted", got)
	}
	if got := outcome(res, "refs/heads/unmerged"); got.Outcome != mirror.Kept || got.Message == "" {
		t.Errorf("unmerged = %+v, want kept with a reason", got)
	}
	if got := b.forge.Refs("ge", "proj")["refs/heads/unmerged"]; got != unmerged {
		t.Errorf("unmerged lost: %q", got)
	}

	opts.Force = true
	res = b.sync(t, opts)
	gone := outcome(res, "refs/heads/unmerged")
	if gone.Outcome != mirror.Deleted || gone.Backup == "" {
		t.Fatalf("unmerged with force = %+v, want deleted with backup", gone)
	}
	if got := b.forge.Refs("ge", "proj")[gone.Backup]; got != unmerged {
		t.Errorf("backup = %q, want %s", got, unmerged)
	}
}

func TestFastForwardBehindAnotherTargetTip(t *testing.T) {
	// Target main is old; another target branch sits between it and the
	// source's main. The thin pack stops at that branch, so ancestry needs
	// the exact fetch to see main is still a fast-forward.
	b := setup(t)
	w := b.work
	base := w.Commit("base", map[string]string{"a": "1"})
	mid := w.Commit("mid", map[string]string{"a": "2"})
	w.Commit("top", map[string]string{"a": "3"})
	b.pushSource(t, "main")
	b.pushTarget(t, base+":refs/heads/main", mid+":refs/heads/mid")
	res := b.sync(t, b.options())
	if got := outcome(res, "refs/heads/main").Outcome; got != mirror.Updated {
		t.Errorf("main = %q, want updated (fast-forward)", got)
	}
}

func TestOneRejectedRefOthersLand(t *testing.T) {
	b := setup(t)
	seed(t, b)
	b.forge.RejectRef("ge", "proj", "refs/heads/feature", "feature is frozen here")
	res := b.sync(t, b.options())
	feat := outcome(res, "refs/heads/feature")
	if feat.Outcome != mirror.Rejected || feat.Class != failure.Rejected {
		t.Errorf("feature = %+v, want rejected", feat)
	}
	if !strings.Contains(feat.Message, "frozen") {
		t.Errorf("rejection message %q does not carry the hook's words", feat.Message)
	}
	if got := outcome(res, "refs/heads/main").Outcome; got != mirror.Created {
		t.Errorf("main = %q, want created", got)
	}
	if res.OK() {
		t.Error("result OK with a rejected ref")
	}
}

func TestCompareAndSwap(t *testing.T) {
	b := setup(t)
	seed(t, b)
	b.sync(t, b.options())
	w := b.work
	// A commit only the target has, parked on a side branch for now.
	w.Branch("elsewhere")
	sneaky := w.Commit("made on the target", map[string]string{"x": "x"})
	b.pushTarget(t, "elsewhere")
	w.Checkout("main")
	w.Commit("new on source", map[string]string{"n": "n"})
	b.pushSource(t, "main")
	// Right before our push, someone moves target main to that commit.
	var fired atomic.Bool
	b.forge.OnRequest(func(r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/git-receive-pack") && strings.Contains(r.URL.Path, "/ge/") && fired.CompareAndSwap(false, true) {
			b.forge.SetRef("ge", "proj", "refs/heads/main", sneaky)
		}
	})
	res := b.sync(t, b.options())
	main := outcome(res, "refs/heads/main")
	if got := b.forge.Refs("ge", "proj")["refs/heads/main"]; got != sneaky {
		t.Fatalf("target main = %s: the concurrent change was overwritten (result %+v)", got, main)
	}
	if main.Outcome != mirror.Diverged {
		t.Errorf("main = %+v, want diverged after replanning", main)
	}
	if res.Attempts < 2 {
		t.Errorf("attempts = %d, want a fresh plan after the rejected update", res.Attempts)
	}
}

func TestServerErrorsRetried(t *testing.T) {
	b := setup(t)
	seed(t, b)
	b.forge.FailNext(2, http.StatusServiceUnavailable)
	res := b.sync(t, b.options())
	if !res.OK() || res.Attempts < 2 {
		t.Errorf("after two 503s: OK=%v attempts=%d", res.OK(), res.Attempts)
	}
	b.assertInSync(t)
}

func TestServerErrorsReported(t *testing.T) {
	b := setup(t)
	seed(t, b)
	b.forge.FailNext(100, http.StatusBadGateway)
	opts := b.options()
	opts.Attempts = 2
	_, err := mirror.Sync(t.Context(), opts)
	if got := failure.ClassOf(err); got != failure.Network {
		t.Fatalf("class = %q (%v), want network", got, err)
	}
	if !strings.Contains(err.Error(), "502") {
		t.Errorf("error %q does not name the status", err)
	}
}

func TestDroppedConnectionRetried(t *testing.T) {
	b := setup(t)
	seed(t, b)
	b.forge.DropNextPack()
	res := b.sync(t, b.options())
	if !res.OK() || res.Attempts != 2 {
		t.Errorf("after a dropped pack: OK=%v attempts=%d", res.OK(), res.Attempts)
	}
	b.assertInSync(t)
}

func TestDroppedConnectionReported(t *testing.T) {
	b := setup(t)
	seed(t, b)
	b.forge.DropNextPack()
	opts := b.options()
	opts.Attempts = 1
	_, err := mirror.Sync(t.Context(), opts)
	if got := failure.ClassOf(err); got != failure.Network {
		t.Fatalf("class = %q (%v), want network", got, err)
	}
	if got := b.forge.Refs("ge", "proj"); len(got) != 0 {
		t.Errorf("a broken transfer wrote refs: %v", got)
	}
}

func TestAuthAndPermissionErrors(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*mirror.Options)
		class failure.Class
	}{
		{"wrong source token", func(o *mirror.Options) { o.Source.Token = "wrong" }, failure.Auth},
		{"wrong target token", func(o *mirror.Options) { o.Target.Token = "wrong" }, failure.Auth},
		{"read-only target token", func(o *mirror.Options) {
			o.Target = mirror.Endpoint{URL: o.Target.URL, Username: "alice", Token: srcToken}
		}, failure.Permission},
		{"missing repository", func(o *mirror.Options) { o.Source.URL = strings.Replace(o.Source.URL, "proj", "nope", 1) }, failure.NotFound},
		{"credentials in the URL", func(o *mirror.Options) {
			o.Source.URL = strings.Replace(o.Source.URL, "http://", "http://u:secret@", 1)
		}, failure.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := setup(t)
			seed(t, b)
			opts := b.options()
			tt.edit(&opts)
			res, err := mirror.Sync(t.Context(), opts)
			var fe *failure.Error
			if !errors.As(err, &fe) || fe.Class != tt.class {
				t.Fatalf("err = %v, want class %q", err, tt.class)
			}
			if res != nil && res.Attempts > 1 {
				t.Errorf("a permanent error was retried %d times", res.Attempts)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error leaks the URL's password: %v", err)
			}
		})
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	b := setup(t)
	seed(t, b)
	opts := b.options()
	opts.DryRun = true
	res := b.sync(t, opts)
	if got := res.Count(mirror.Planned); got != 7 {
		t.Errorf("planned %d, want 7", got)
	}
	if got := b.forge.Refs("ge", "proj"); len(got) != 0 {
		t.Errorf("dry run wrote refs: %v", got)
	}
}

func TestFilters(t *testing.T) {
	b := setup(t)
	seed(t, b)
	opts := b.options()
	opts.Branches = []string{"main"}
	opts.NoTags = true
	res := b.sync(t, opts)
	if got, want := len(res.Refs), 1; got != want {
		t.Fatalf("%d refs in scope, want %d: %+v", got, want, res.Refs)
	}
	refs := b.forge.Refs("ge", "proj")
	if _, ok := refs["refs/heads/feature"]; ok {
		t.Error("feature mirrored despite the filter")
	}
	if _, ok := refs["refs/heads/main"]; !ok {
		t.Error("main not mirrored")
	}
}

func TestTimeoutClassified(t *testing.T) {
	b := setup(t)
	seed(t, b)
	b.forge.SetLatency(500 * time.Millisecond)
	opts := b.options()
	opts.Timeout = 200 * time.Millisecond
	_, err := mirror.Sync(t.Context(), opts)
	if got := failure.ClassOf(err); got != failure.Timeout {
		t.Fatalf("class = %q (%v), want timeout", got, err)
	}
}

func TestCancelledContextStops(t *testing.T) {
	b := setup(t)
	seed(t, b)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := mirror.Sync(ctx, b.options())
	if err == nil {
		t.Fatal("a cancelled sync reported success")
	}
	if got := b.forge.Refs("ge", "proj"); len(got) != 0 {
		t.Errorf("a cancelled sync wrote refs: %v", got)
	}
}
