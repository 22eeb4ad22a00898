package mirror_test

import (
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// twoWay returns a two-way setup: both tokens may write both sides, and the
// state lives in a cache directory of the test's own.
func twoWay(t *testing.T) (*bundle, mirror.Options) {
	t.Helper()
	b := setup(t)
	b.forge.Grant("alice", "gh", "proj", forgetest.Write)
	opts := b.options()
	opts.TwoWay, opts.Prune, opts.CacheDir = true, true, t.TempDir()
	return b, opts
}

func TestTwoWayCommitOnEachSide(t *testing.T) {
	b, opts := twoWay(t)
	w := b.work
	w.Commit("one", map[string]string{"a.txt": "1"})
	w.Tag("v1", "main", true)
	b.pushSource(t, "main", "v1")
	res := b.sync(t, opts)
	if got := outcome(res, "refs/tags/v1"); got.Outcome != mirror.Created || got.Side != mirror.SideTarget {
		t.Errorf("v1 = %+v, want created on the target", got)
	}
	b.assertInSync(t)

	// A commit on the target's main, a new branch on the source.
	w.Commit("on the target", map[string]string{"t.txt": "t"})
	b.pushTarget(t, "main")
	w.Branch("feature")
	w.Commit("on the source", map[string]string{"s.txt": "s"})
	b.pushSource(t, "feature")
	b.forge.ResetStats()
	res = b.sync(t, opts)
	if got := outcome(res, "refs/heads/main"); got.Outcome != mirror.Updated || got.Side != mirror.SideSource {
		t.Errorf("main = %+v, want fast-forwarded on the source", got)
	}
	if got := outcome(res, "refs/heads/feature"); got.Outcome != mirror.Created || got.Side != mirror.SideTarget {
		t.Errorf("feature = %+v, want created on the target", got)
	}
	if st := b.forge.Stats(); st.UploadPackPOSTs != 2 || st.ReceivePackPOSTs != 2 {
		t.Errorf("made %d fetches and %d pushes, want one of each per direction", st.UploadPackPOSTs, st.ReceivePackPOSTs)
	}
	b.assertInSync(t)
	if err := b.forge.Fsck("gh", "proj"); err != nil {
		t.Error(err)
	}

	b.forge.ResetStats()
	res = b.sync(t, opts)
	if !res.NoOp || len(res.Changed()) != 0 {
		t.Errorf("second sync not a no-op: %+v", res)
	}
	if st := b.forge.Stats(); st.UploadPackPOSTs+st.ReceivePackPOSTs != 0 || st.Listings() != 2 {
		t.Errorf("no-op two-way sync made requests beyond two listings: %+v", st)
	}
}

func TestTwoWayConflictTouchesNeitherSide(t *testing.T) {
	b, opts := twoWay(t)
	w := b.work
	base := w.Commit("base", map[string]string{"a.txt": "1"})
	w.Tag("v1", "main", false)
	b.pushSource(t, "main", "v1")
	b.sync(t, opts)

	srcTip := w.Commit("source side", map[string]string{"a.txt": "s"})
	w.Run("tag", "-f", "v1", "main")
	b.pushSource(t, "main", "+v1")
	w.Checkout(base)
	w.Branch("main")
	dstTip := w.Commit("target side", map[string]string{"a.txt": "t"})
	w.Run("tag", "-f", "v1", "main")
	b.pushTarget(t, "+main", "+v1")

	res := b.sync(t, opts)
	main := outcome(res, "refs/heads/main")
	if main.Outcome != mirror.Conflict || main.Source != srcTip || main.Target != dstTip {
		t.Errorf("main = %+v, want a conflict naming %s and %s", main, srcTip, dstTip)
	}
	if !strings.Contains(main.Message, "To resolve") {
		t.Errorf("conflict message says nothing about resolving it: %q", main.Message)
	}
	if got := outcome(res, "refs/tags/v1").Outcome; got != mirror.Conflict {
		t.Errorf("v1 = %q, want conflict", got)
	}
	if got, want := len(res.Conflicts()), 2; got != want {
		t.Errorf("%d conflicts, want %d", got, want)
	}
	if res.OK() {
		t.Error("result OK with conflicts")
	}
	if got := mirrored(b.forge, "gh")["refs/heads/main"]; got != srcTip {
		t.Errorf("source main = %s, want it left at %s", got, srcTip)
	}
	if got := mirrored(b.forge, "ge")["refs/heads/main"]; got != dstTip {
		t.Errorf("target main = %s, want it left at %s", got, dstTip)
	}

	// Reported again, without moving objects.
	b.forge.ResetStats()
	res = b.sync(t, opts)
	if got := len(res.Conflicts()); got != 2 {
		t.Errorf("second sync: %d conflicts, want 2", got)
	}
	if st := b.forge.Stats(); st.UploadPackPOSTs+st.ReceivePackPOSTs != 0 {
		t.Errorf("a sync with the same conflicts moved objects: %+v", st)
	}

	// Resolved by making the sides equal: the next sync records it.
	b.pushSource(t, "+main", "+v1")
	res = b.sync(t, opts)
	if !res.OK() {
		t.Errorf("after resolving: %+v", res)
	}
	b.assertInSync(t)
}

func TestTwoWayDeletions(t *testing.T) {
	b, opts := twoWay(t)
	w := b.work
	w.Commit("one", map[string]string{"a.txt": "1"})
	for _, br := range []string{"gone", "moved", "kept"} {
		w.Branch(br)
	}
	w.Tag("t1", "main", true)
	b.pushSource(t, "main", "gone", "moved", "kept", "t1")

	// Without state nothing is ever deleted: the first sync only creates.
	noState := opts
	noState.CacheDir = ""
	b.sync(t, noState)
	b.pushTarget(t, ":gone")
	res := b.sync(t, noState)
	if got := outcome(res, "refs/heads/gone"); got.Outcome != mirror.Created || got.Side != mirror.SideTarget {
		t.Errorf("without state, gone = %+v; want re-created on the target", got)
	}

	// With state: the first sync records L, then deletions travel.
	b.sync(t, opts)
	w.Checkout("moved")
	moved := w.Commit("moved on the source", map[string]string{"m.txt": "m"})
	b.pushSource(t, "moved")
	b.pushTarget(t, ":gone", ":moved", ":t1")
	res = b.sync(t, opts)
	gone := outcome(res, "refs/heads/gone")
	if gone.Outcome != mirror.Deleted || gone.Side != mirror.SideSource || !strings.HasPrefix(gone.Backup, "refs/mirror-backup/") {
		t.Errorf("gone = %+v, want deleted on the source after a backup", gone)
	}
	if got := b.forge.Refs("gh", "proj")[gone.Backup]; got != gone.Source {
		t.Errorf("source backup %s = %q, want %s", gone.Backup, got, gone.Source)
	}
	if len(res.SourceBackups) != 2 {
		t.Errorf("source backups = %v, want gone's and t1's", res.SourceBackups)
	}
	if got := outcome(res, "refs/tags/t1").Outcome; got != mirror.Deleted {
		t.Errorf("t1 = %q, want deleted", got)
	}
	if got := outcome(res, "refs/heads/moved"); got.Outcome != mirror.Created || got.Side != mirror.SideTarget || got.Source != moved {
		t.Errorf("moved = %+v, want re-created on the target", got)
	}
	b.assertInSync(t)

	// Prune off: a deletion is not carried, the ref is kept and reported.
	b.pushSource(t, ":kept")
	noPrune := opts
	noPrune.Prune = false
	res = b.sync(t, noPrune)
	if got := outcome(res, "refs/heads/kept").Outcome; got != mirror.Kept {
		t.Errorf("kept = %q, want kept", got)
	}
	if _, ok := b.forge.Refs("ge", "proj")["refs/heads/kept"]; !ok {
		t.Error("prune off deleted a ref")
	}
}

func TestTwoWayRewriteBacksUpOnTheOtherSide(t *testing.T) {
	b, opts := twoWay(t)
	w := b.work
	w.Commit("one", map[string]string{"a.txt": "1"})
	old := w.Commit("two", map[string]string{"a.txt": "2"})
	b.pushTarget(t, "main")
	b.sync(t, opts)

	w.Run("reset", "-q", "--hard", "HEAD~1")
	rewritten := w.Commit("two, again", map[string]string{"a.txt": "2'"})
	b.pushTarget(t, "+main")
	res := b.sync(t, opts)
	main := outcome(res, "refs/heads/main")
	if main.Outcome != mirror.Forced || main.Side != mirror.SideSource || main.Source != old || main.Target != rewritten {
		t.Errorf("main = %+v, want the source overwritten", main)
	}
	if got := b.forge.Refs("gh", "proj")[main.Backup]; got != old {
		t.Errorf("backup %q on the source = %q, want %s", main.Backup, got, old)
	}
	b.assertInSync(t)
}

func TestTwoWayRefusesForce(t *testing.T) {
	b, opts := twoWay(t)
	opts.Force = true
	if _, err := mirror.Sync(t.Context(), opts); err == nil || !strings.Contains(err.Error(), "two-way") {
		t.Errorf("Sync with force and two-way: %v, want a refusal naming two-way", err)
	}
	_ = b
}
