package mirror_test

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// Tests of Options.CreateTarget: a target that does not exist yet, made
// by the caller once the source has shown it has something to mirror.

// freshTarget points the bundle's sync at ge/fresh, which does not exist,
// and returns options whose CreateTarget creates it (counting the calls)
// and then runs then, if not nil.
func freshTarget(b *bundle, calls *atomic.Int32, then func()) mirror.Options {
	b.forge.Grant("bob", "ge", "fresh", forgetest.Write)
	opts := b.options()
	opts.Target.URL = b.forge.GitURL("ge", "fresh")
	opts.CreateTarget = func(context.Context) error {
		calls.Add(1)
		b.forge.CreateRepo("ge", "fresh")
		if then != nil {
			then()
		}
		return nil
	}
	return opts
}

// branchesAndTags returns the branches and tags of a repository.
func branchesAndTags(f *forgetest.Forge, owner, name string) map[string]string {
	out := map[string]string{}
	for ref, id := range f.Refs(owner, name) {
		if strings.HasPrefix(ref, "refs/heads/") || strings.HasPrefix(ref, "refs/tags/") {
			out[ref] = id
		}
	}
	return out
}

func TestCreateTargetMirrorsWithoutListingIt(t *testing.T) {
	b := setup(t)
	seed(t, b)
	var calls atomic.Int32
	opts := freshTarget(b, &calls, nil)
	b.forge.ResetStats()
	res := b.sync(t, opts)
	if n := calls.Load(); n != 1 {
		t.Errorf("CreateTarget called %d times, want 1", n)
	}
	if !res.OK() || res.NoOp || res.SourceEmpty {
		t.Fatalf("result %+v", res)
	}
	if got, want := res.Count(mirror.Created), 7; got != want {
		t.Errorf("created %d refs, want %d: %+v", got, want, res.Refs)
	}
	if got, want := branchesAndTags(b.forge, "ge", "fresh"), branchesAndTags(b.forge, "gh", "proj"); !reflect.DeepEqual(got, want) {
		t.Errorf("target refs %v, want %v", got, want)
	}
	if err := b.forge.Fsck("ge", "fresh"); err != nil {
		t.Errorf("fsck target: %v", err)
	}
	// One listing of the source, one pack from it, one push; the new
	// target is not listed.
	want := forgetest.Stats{InfoRefsUploadPack: 1, UploadPackPOSTs: 1, ReceivePackPOSTs: 1}
	if st := b.forge.Stats(); st.InfoRefsUploadPack != want.InfoRefsUploadPack || st.UploadPackPOSTs != want.UploadPackPOSTs ||
		st.InfoRefsReceivePack != want.InfoRefsReceivePack || st.ReceivePackPOSTs != want.ReceivePackPOSTs {
		t.Errorf("requests %+v, want %+v", st, want)
	}

	// The next sync, of an existing target, lists it and finds nothing to do.
	opts.CreateTarget = nil
	if res := b.sync(t, opts); !res.NoOp || !res.OK() {
		t.Errorf("second sync: %+v", res)
	}
}

func TestCreateTargetSourceEmpty(t *testing.T) {
	tests := map[string]func(t *testing.T, b *bundle){
		"no refs at all": func(*testing.T, *bundle) {},
		"only a pull request ref": func(t *testing.T, b *bundle) {
			b.work.Commit("one", map[string]string{"a": "1"})
			b.pushSource(t, "main:refs/pull/1/head")
		},
	}
	for name, prepare := range tests {
		t.Run(name, func(t *testing.T) {
			b := setup(t)
			prepare(t, b)
			var calls atomic.Int32
			opts := freshTarget(b, &calls, nil)
			b.forge.ResetStats()
			res := b.sync(t, opts)
			if !res.SourceEmpty || !res.NoOp || len(res.Refs) != 0 {
				t.Errorf("result %+v, want SourceEmpty and no refs", res)
			}
			if n := calls.Load(); n != 0 {
				t.Errorf("CreateTarget called %d times for an empty source", n)
			}
			st := b.forge.Stats()
			if st.InfoRefsUploadPack != 1 || st.UploadPackPOSTs+st.InfoRefsReceivePack+st.ReceivePackPOSTs != 0 {
				t.Errorf("requests %+v, want only the source's listing", st)
			}
		})
	}
}

func TestCreateTargetSourceWithRefsOutOfScope(t *testing.T) {
	b := setup(t)
	seed(t, b)
	var calls atomic.Int32
	opts := freshTarget(b, &calls, nil)
	opts.Branches, opts.NoTags = []string{"nothing-like-this"}, true
	res := b.sync(t, opts)
	// The source is not empty, so the target is created, as a listing of
	// an existing one would find nothing to do either.
	if n := calls.Load(); n != 1 || res.SourceEmpty || !res.NoOp {
		t.Errorf("CreateTarget called %d times; result %+v", n, res)
	}
}

func TestCreateTargetErrorReturnedAsIs(t *testing.T) {
	b := setup(t)
	seed(t, b)
	boom := failure.New(failure.Network, "the site is down") // transient, yet not retried
	var calls atomic.Int32
	opts := b.options()
	opts.Target.URL = b.forge.GitURL("ge", "fresh")
	opts.CreateTarget = func(context.Context) error { calls.Add(1); return boom }
	b.forge.ResetStats()
	res, err := mirror.Sync(context.Background(), opts)
	if err != boom || res != nil {
		t.Errorf("Sync = %+v, %v; want nil and CreateTarget's error itself", res, err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("CreateTarget called %d times, want 1", n)
	}
	if st := b.forge.Stats(); st.InfoRefsReceivePack+st.ReceivePackPOSTs != 0 {
		t.Errorf("the target was contacted: %+v", st)
	}
}

func TestCreateTargetAfterSourceListingRetried(t *testing.T) {
	b := setup(t)
	seed(t, b)
	var calls atomic.Int32
	opts := freshTarget(b, &calls, nil)
	b.forge.FailNext(1, http.StatusServiceUnavailable) // the source's listing
	res := b.sync(t, opts)
	if n := calls.Load(); n != 1 || !res.OK() || res.Attempts != 2 {
		t.Errorf("CreateTarget called %d times; OK %v after %d attempts", n, res.OK(), res.Attempts)
	}
	if got, want := branchesAndTags(b.forge, "ge", "fresh"), branchesAndTags(b.forge, "gh", "proj"); !reflect.DeepEqual(got, want) {
		t.Errorf("target refs %v, want %v", got, want)
	}
}

// TestCreateTargetNotEmptyAfterAll: a ref that appears on the new target
// between its creation and the push (someone else was quicker) is not
// overwritten, although the target was not listed: the push may only create
// refs, the target refuses, and the sync plans again from a listing.
func TestCreateTargetNotEmptyAfterAll(t *testing.T) {
	b := setup(t)
	seed(t, b)
	w := b.work
	w.Branch("elsewhere")
	sneaky := w.Commit("made on the target", map[string]string{"x": "x"})
	var calls atomic.Int32
	opts := freshTarget(b, &calls, func() {
		b.forge.Grant("admin", "ge", "fresh", forgetest.Write)
		if err := w.Push(b.forge.GitURL("ge", "fresh"), "admin", adminToken, "elsewhere:refs/heads/main"); err != nil {
			t.Errorf("push to the new target: %v", err)
		}
	})
	res := b.sync(t, opts)
	if got := b.forge.Refs("ge", "fresh")["refs/heads/main"]; got != sneaky {
		t.Fatalf("target main = %s, want %s: the other push was overwritten (result %+v)", got, sneaky, res)
	}
	if main := outcome(res, "refs/heads/main"); main.Outcome != mirror.Diverged {
		t.Errorf("main = %+v, want diverged after planning again", main)
	}
	if got := outcome(res, "refs/heads/feature").Outcome; got != mirror.Created {
		t.Errorf("feature = %q, want created", got)
	}
	if res.Attempts < 2 {
		t.Errorf("attempts = %d, want a fresh plan after the refused update", res.Attempts)
	}
	if err := b.forge.Fsck("ge", "fresh"); err != nil {
		t.Errorf("fsck target: %v", err)
	}
}
