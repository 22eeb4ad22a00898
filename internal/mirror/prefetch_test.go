package mirror_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// hintedBundle is a seeded pair synced once with a cache directory, so
// that a later sync has the state, the graph and the capabilities a hinted
// sync starts from.
func hintedBundle(t *testing.T, forgeOpts ...forgetest.Option) (*bundle, mirror.Options) {
	t.Helper()
	b := setup(t, forgeOpts...)
	seed(t, b)
	opts := b.options()
	opts.CacheDir = t.TempDir()
	opts.Prune = true
	b.sync(t, opts)
	return b, opts
}

// pushHinted commits files on the work tree's current branch, pushes it to
// the source's branch (refspec, e.g. "+main" to force), and syncs with the
// hint a push event gives: the branch's new commit. The forge's counters
// start from zero for the sync.
func (b *bundle) pushHinted(t *testing.T, opts mirror.Options, refspec, msg string, files map[string]string) *mirror.Result {
	t.Helper()
	id := b.work.Commit(msg, files)
	b.pushSource(t, refspec)
	b.forge.ResetStats()
	opts.Hints = map[string]string{"refs/heads/" + strings.TrimPrefix(refspec, "+"): id}
	return b.sync(t, opts)
}

// leftovers lists prefetched packs left in the cache directory.
func leftovers(t *testing.T, cache string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(cache, func(path string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), "prefetch-") {
			found = append(found, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// A hinted sync asks for the new commit's pack while the refs are listed:
// the forge holds the source's listing until the source's upload-pack POST
// has come (at most 10 s). Without the hint the POST waits for the
// listing, and the hold runs out.
func TestHintedSyncFetchesBesideTheListings(t *testing.T) {
	b, opts := hintedBundle(t)
	b.work.Commit("four", map[string]string{"a.txt": "4"})
	b.pushSource(t, "main")
	head := b.forge.Refs("gh", "proj")["refs/heads/main"]

	posted := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	heldOut, v2 := false, false
	b.forge.OnServe(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		// The source's listing is a GET info/refs, or a POST of ls-refs
		// (the capabilities are remembered); its fetch, any other POST.
		listing := false
		switch {
		case r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/gh/proj") && strings.HasSuffix(r.URL.Path, "/git-upload-pack"):
			if listing = hasV2Command(t, r, "ls-refs"); !listing {
				mu.Lock()
				v2 = r.Header.Get("Git-Protocol") == "version=2"
				mu.Unlock()
				once.Do(func() { close(posted) })
			}
		case r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/gh/proj") && strings.HasSuffix(r.URL.Path, "/info/refs"):
			listing = true
		}
		if listing {
			select {
			case <-posted:
			case <-time.After(10 * time.Second):
				mu.Lock()
				heldOut = true
				mu.Unlock()
			}
		}
		next.ServeHTTP(w, r)
	})
	b.forge.ResetStats()
	opts.Hints = map[string]string{"refs/heads/main": head}
	res := b.sync(t, opts)
	b.forge.OnServe(nil)

	if got := outcome(res, "refs/heads/main"); got.Outcome != mirror.Updated {
		t.Errorf("main = %+v, want updated", got)
	}
	b.assertInSync(t)
	mu.Lock()
	defer mu.Unlock()
	if heldOut {
		t.Errorf("the source was listed before its pack was asked for: the hint was not used")
	}
	if !v2 {
		t.Errorf("the prefetch was not a protocol version 2 fetch")
	}
	if st := b.forge.Stats(); st.UploadPackPOSTs != 1 {
		t.Errorf("%d upload-pack POSTs, want the prefetch's one: %+v", st.UploadPackPOSTs, st)
	}
	if !strings.Contains(b.logs.String(), "fetched the hinted commits beside the listings") {
		t.Errorf("the prefetched pack was not used; log:\n%s", b.logs.String())
	}
	if l := leftovers(t, opts.CacheDir); len(l) != 0 {
		t.Errorf("prefetched packs left behind: %v", l)
	}
}

// A hint the listings do not confirm is dropped, and the sync is what it
// would have been without it: the rules decide, never the hint.
func TestHintsNotConfirmedAreDropped(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		// prepare changes the sides after the first sync and returns the
		// hints to give.
		prepare func(t *testing.T, b *bundle) map[string]string
		want    mirror.Outcome // of refs/heads/main
		log     string
	}{
		"a commit the source does not have": {
			prepare: func(t *testing.T, b *bundle) map[string]string {
				b.work.Commit("four", map[string]string{"a.txt": "4"})
				b.pushSource(t, "main")
				return map[string]string{"refs/heads/main": strings.Repeat("ab", 20)}
			},
			want: mirror.Updated, log: "fetching as usual",
		},
		"a commit the ref is not at": {
			prepare: func(t *testing.T, b *bundle) map[string]string {
				side := b.work.Commit("on feature", map[string]string{"f.txt": "g"})
				b.work.Run("branch", "-f", "feature", side)
				b.work.Run("reset", "-q", "--hard", "HEAD~1")
				b.work.Commit("four", map[string]string{"a.txt": "4"})
				b.pushSource(t, "+feature", "main")
				return map[string]string{"refs/heads/main": side}
			},
			want: mirror.Updated, log: "hint not confirmed by the listings",
		},
		"a target that moved since the last sync": {
			prepare: func(t *testing.T, b *bundle) map[string]string {
				b.work.Branch("elsewhere")
				b.work.Commit("made on the target", map[string]string{"x": "x"})
				b.pushTarget(t, "elsewhere:main")
				b.work.Checkout("main")
				b.work.Commit("four", map[string]string{"a.txt": "4"})
				b.pushSource(t, "main")
				return map[string]string{"refs/heads/main": b.work.Rev("main")}
			},
			// The target still has every tip the pack was cut against
			// (a tag points at main's old commit), so the pack may be
			// used: what matters is that the rules keep the target's commit.
			want: mirror.Diverged,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b, opts := hintedBundle(t)
			opts.Hints = tc.prepare(t, b)
			targetBefore := b.forge.Refs("ge", "proj")["refs/heads/main"]
			res := b.sync(t, opts)
			got := outcome(res, "refs/heads/main")
			if got.Outcome != tc.want {
				t.Errorf("main = %+v, want %s", got, tc.want)
			}
			switch tc.want {
			case mirror.Updated:
				b.assertInSync(t)
			case mirror.Diverged:
				if now := b.forge.Refs("ge", "proj")["refs/heads/main"]; now != targetBefore {
					t.Errorf("target main moved from %s to %s: a diverged ref was overwritten", targetBefore, now)
				}
			}
			if tc.log != "" && !strings.Contains(b.logs.String(), tc.log) {
				t.Errorf("log lacks %q:\n%s", tc.log, b.logs.String())
			}
			if l := leftovers(t, opts.CacheDir); len(l) != 0 {
				t.Errorf("prefetched packs left behind: %v", l)
			}
		})
	}
}

// A hint for a branch new since the last sync has no old value to fetch
// against: every last-synced tip is a have (cut to their frontier when
// there are many, here 20 more tags), and the prefetch is still used.
func TestHintedNewBranch(t *testing.T) {
	b := setup(t)
	seed(t, b)
	for i := range 20 {
		b.work.Tag(fmt.Sprintf("r%02d", i), "main~1", false)
	}
	b.pushSource(t, "refs/tags/*:refs/tags/*")
	opts := b.options()
	opts.CacheDir = t.TempDir()
	b.sync(t, opts)

	b.work.Branch("topic")
	res := b.pushHinted(t, opts, "topic", "on topic", map[string]string{"t.txt": "t"})
	if got := outcome(res, "refs/heads/topic"); got.Outcome != mirror.Created {
		t.Errorf("topic = %+v, want created", got)
	}
	b.assertInSync(t)
	if !strings.Contains(b.logs.String(), "fetched the hinted commits beside the listings") {
		t.Errorf("the prefetched pack was not used; log:\n%s", b.logs.String())
	}
	if l := leftovers(t, opts.CacheDir); len(l) != 0 {
		t.Errorf("prefetched packs left behind: %v", l)
	}
}

// A source that does not speak protocol version 2 (here the forge drops
// the Git-Protocol header, as an old server ignores it) gets the prefetch
// again in version 0, and is remembered: the next hinted sync asks it in
// version 0 at once.
func TestHintedSyncWithoutProtocolV2(t *testing.T) {
	b, opts := hintedBundle(t, forgetest.WithoutProtocolV2())
	// The first sync asks in version 2 and is refused: the prefetch, and
	// the listing too unless the prefetch's refusal was remembered before
	// it started; then the version 0 listing and prefetch. The second asks
	// in version 0 only.
	for i, wantPOSTs := range [][2]int{{2, 3}, {1, 1}} {
		res := b.pushHinted(t, opts, "main", fmt.Sprintf("new %d", i), map[string]string{"a.txt": fmt.Sprint(i)})
		if got := outcome(res, "refs/heads/main"); got.Outcome != mirror.Updated {
			t.Errorf("sync %d: main = %+v, want updated", i+1, got)
		}
		b.assertInSync(t)
		if n := strings.Count(b.logs.String(), "fetched the hinted commits beside the listings"); n != i+1 {
			t.Errorf("sync %d: the prefetched pack was used in %d of %d syncs; log:\n%s", i+1, n, i+1, b.logs.String())
		}
		if st := b.forge.Stats(); st.UploadPackPOSTs < wantPOSTs[0] || st.UploadPackPOSTs > wantPOSTs[1] || st.InfoRefsUploadPack != 1 {
			t.Errorf("sync %d: %d upload-pack POSTs and %d listings, want %d to %d and 1: %+v",
				i+1, st.UploadPackPOSTs, st.InfoRefsUploadPack, wantPOSTs[0], wantPOSTs[1], st)
		}
	}
}

// graphCache returns the path of the commit graph cache under cache.
func graphCache(t *testing.T, cache string) string {
	t.Helper()
	var found string
	err := filepath.WalkDir(cache, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.Name() == "graph" {
			found = path
		}
		return err
	})
	if err != nil || found == "" {
		t.Fatalf("no graph cache under %s (%v)", cache, err)
	}
	return found
}

// A hinted sync of new commits answers its question from the prefetched
// pack: the graph cache is not read (here it is made unreadable, and
// reading it would log so). A hint whose pack does not reach the target's
// tip (a force-push on the source) needs the cache, and reads it then:
// the rules see the rewrite (the target's commit is backed up, then
// overwritten) without an extra fetch to tell it.
func TestHintedSyncReadsTheGraphOnlyWhenNeeded(t *testing.T) {
	const unreadable = "ignoring unreadable commit graph cache"
	t.Run("fast-forward", func(t *testing.T) {
		b, opts := hintedBundle(t)
		graph := graphCache(t, opts.CacheDir)
		if err := os.Remove(graph); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(graph, 0o700); err != nil { // os.ReadFile fails on it
			t.Fatal(err)
		}
		res := b.pushHinted(t, opts, "main", "four", map[string]string{"a.txt": "4"})
		if got := outcome(res, "refs/heads/main"); got.Outcome != mirror.Updated {
			t.Errorf("main = %+v, want updated", got)
		}
		b.assertInSync(t)
		if strings.Contains(b.logs.String(), unreadable) {
			t.Errorf("the graph cache was read for a question the prefetched pack answers; log:\n%s", b.logs.String())
		}
	})
	t.Run("force-pushed source", func(t *testing.T) {
		b, opts := hintedBundle(t)
		b.work.Run("reset", "-q", "--hard", "HEAD~1")
		res := b.pushHinted(t, opts, "+main", "rewritten", map[string]string{"a.txt": "rewritten"})
		if got := outcome(res, "refs/heads/main"); got.Outcome != mirror.Forced || got.Backup == "" {
			t.Errorf("main = %+v, want overwritten with a backup", got)
		}
		b.assertInSync(t)
		if !strings.Contains(b.logs.String(), "fetched the hinted commits beside the listings") {
			t.Errorf("the prefetched pack was not used; log:\n%s", b.logs.String())
		}
		if st := b.forge.Stats(); st.UploadPackPOSTs != 1 {
			t.Errorf("%d upload-pack POSTs, want the prefetch's one (the cache answers the rest): %+v", st.UploadPackPOSTs, st)
		}
	})
}

// A sync removes temporary packs that a killed process left in its cache
// directory, once they are older than any live sync could be.
func TestSyncRemovesStaleSpools(t *testing.T) {
	b, opts := hintedBundle(t)
	dirs, err := filepath.Glob(filepath.Join(opts.CacheDir, "*"))
	if err != nil || len(dirs) != 1 {
		t.Fatalf("cache directories %v, %v", dirs, err)
	}
	stale := filepath.Join(dirs[0], "prefetch-killed.pack")
	if err := os.WriteFile(stale, []byte("PACK"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-opts.Timeout - time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	b.sync(t, opts)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the stale pack is still there: %v", err)
	}
}
