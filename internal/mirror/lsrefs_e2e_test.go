package mirror_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// lsRefsBodies records the bodies of the source's ls-refs requests.
type lsRefsBodies struct {
	mu     sync.Mutex
	bodies []string
}

func (l *lsRefsBodies) watch(t *testing.T, f *forgetest.Forge) {
	f.OnServe(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if strings.HasPrefix(r.URL.Path, "/gh/proj") && hasV2Command(t, r, "ls-refs") {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				t.Error(err)
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			l.mu.Lock()
			l.bodies = append(l.bodies, string(body))
			l.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

func (l *lsRefsBodies) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.bodies
	l.bodies = nil
	return out
}

// With a cache directory, a sync after the first lists the source with a
// protocol version 2 ls-refs of its branches, tags and backups, without
// peeling, instead of a version 0 advertisement of every ref it has (here
// a refs/pull/* ref, as GitHub has thousands): the first sync learns the
// capabilities it then pairs the listing with. What is mirrored is the
// same: new branches, tags (annotated ones too) and deletions (prune).
func TestSourceListedWithLsRefs(t *testing.T) {
	b := setup(t)
	seed(t, b)
	opts := b.options()
	opts.CacheDir = t.TempDir()
	opts.Prune = true
	var seen lsRefsBodies
	seen.watch(t, b.forge)

	b.forge.ResetStats()
	b.sync(t, opts)
	if st := b.forge.Stats(); st.InfoRefsUploadPack != 1 || st.LsRefs != 0 {
		t.Errorf("first sync: %d version 0 listings and %d ls-refs of the source, want 1 and 0: %+v", st.InfoRefsUploadPack, st.LsRefs, st)
	}
	b.assertInSync(t)

	main := b.forge.Refs("gh", "proj")["refs/heads/main"]
	b.forge.SetRef("gh", "proj", "refs/pull/7/head", main)
	w := b.work
	w.Commit("four", map[string]string{"a.txt": "4"})
	w.Branch("next")
	w.Tag("v2", "main", true)
	b.pushSource(t, "main", "next", "refs/tags/v2", ":refs/tags/light")

	b.forge.ResetStats()
	res := b.sync(t, opts)
	st := b.forge.Stats()
	// The one version 0 upload-pack listing is the target's: a tag only
	// it has is up for pruning, and receive-pack does not peel it
	// (peelTargetTags).
	if st.InfoRefsUploadPack != 1 || st.LsRefs != 1 {
		t.Errorf("second sync: %d version 0 upload-pack listings and %d ls-refs, want 1 (the target's) and 1: %+v", st.InfoRefsUploadPack, st.LsRefs, st)
	}
	for ref, want := range map[string]mirror.Outcome{
		"refs/heads/main": mirror.Updated, "refs/heads/next": mirror.Created,
		"refs/tags/v2": mirror.Created, "refs/tags/light": mirror.Deleted,
	} {
		if got := outcome(res, ref); got.Outcome != want {
			t.Errorf("%s = %+v, want %s", ref, got, want)
		}
	}
	b.assertInSync(t)
	if _, ok := b.forge.Refs("ge", "proj")["refs/pull/7/head"]; ok {
		t.Error("refs/pull/7/head was mirrored")
	}
	bodies := seen.take()
	if len(bodies) != 1 {
		t.Fatalf("%d ls-refs requests, want 1", len(bodies))
	}
	for _, want := range []string{"ref-prefix refs/heads/\n", "ref-prefix refs/tags/\n", "ref-prefix refs/mirror-backup/\n"} {
		if !strings.Contains(bodies[0], want) {
			t.Errorf("ls-refs request %q lacks %q", bodies[0], want)
		}
	}
	if strings.Contains(bodies[0], "peel") {
		t.Errorf("ls-refs request %q asks to peel: the source's peeled values are never read", bodies[0])
	}

	// A no-op sync: one ls-refs and the target's listing, nothing else,
	// and not a byte of the source's 500 pull request refs: its answer is
	// smaller than their lines alone (a version 0 advertisement sends
	// them all).
	var pulls strings.Builder
	for i := range 500 {
		fmt.Fprintf(&pulls, "create refs/pull/%d/head %s\n", i+100, main)
	}
	cmd := exec.Command("git", "-C", b.forge.RepoPath("gh", "proj"), "update-ref", "--stdin")
	cmd.Stdin = strings.NewReader(pulls.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git update-ref: %v\n%s", err, out)
	}
	b.forge.ResetStats()
	if res := b.sync(t, opts); !res.NoOp {
		t.Errorf("third sync not a no-op: %+v", res)
	}
	st = b.forge.Stats()
	if st.LsRefs != 1 || st.Listings() != 2 || st.UploadPackPOSTs+st.ReceivePackPOSTs != 0 {
		t.Errorf("no-op sync: %+v, want one ls-refs and one listing of the target only", st)
	}
	if pullBytes := int64(len(strings.ReplaceAll(pulls.String(), "create ", ""))); st.UploadPackResponseBytes >= pullBytes {
		t.Errorf("the source's listing was %d bytes, more than its %d bytes of pull request refs alone: they were sent", st.UploadPackResponseBytes, pullBytes)
	}
}

// Capabilities paired with ls-refs listings are not seen again, so they
// age: once older than a day, the next sync lists the source in version 0
// again, which refreshes them, and the one after uses ls-refs.
func TestLsRefsCapabilitiesAge(t *testing.T) {
	b := setup(t)
	seed(t, b)
	opts := b.options()
	opts.CacheDir = t.TempDir()
	b.sync(t, opts)
	b.forge.ResetStats()
	b.sync(t, opts)
	if st := b.forge.Stats(); st.LsRefs != 1 {
		t.Fatalf("second sync: %d ls-refs, want 1: %+v", st.LsRefs, st)
	}

	path := capsPath(t, opts.CacheDir)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var entries map[string]map[string]any
	if err := json.Unmarshal(data, &entries); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		e["seen"] = time.Now().Add(-25 * time.Hour).UTC().Format(time.RFC3339Nano)
	}
	if data, err = json.Marshal(entries); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}

	for i, want := range []struct{ v0, lsRefs int }{{1, 0}, {0, 1}} {
		b.forge.ResetStats()
		b.sync(t, opts)
		if st := b.forge.Stats(); st.InfoRefsUploadPack != want.v0 || st.LsRefs != want.lsRefs {
			t.Errorf("sync %d after a day: %d version 0 listings and %d ls-refs, want %d and %d: %+v",
				i+1, st.InfoRefsUploadPack, st.LsRefs, want.v0, want.lsRefs, st)
		}
	}
	b.assertInSync(t)
}

// A source that does not speak protocol version 2 (here: a proxy that drops
// the Git-Protocol header, so git answers in version 0) is listed in
// version 0 after its refusal of ls-refs, in the same sync, and from then
// on without asking again.
func TestLsRefsRefusedFallsBackToV0(t *testing.T) {
	b := setup(t, forgetest.WithoutProtocolV2())
	seed(t, b)
	opts := b.options()
	opts.CacheDir = t.TempDir()
	b.sync(t, opts)

	for i, wantPOSTs := range []int{2, 1} { // the refused ls-refs, then the fetch; the fetch only
		b.work.Commit("more", map[string]string{"a.txt": string(rune('a' + i))})
		b.pushSource(t, "main")
		b.forge.ResetStats()
		res := b.sync(t, opts)
		st := b.forge.Stats()
		if st.InfoRefsUploadPack != 1 || st.UploadPackPOSTs != wantPOSTs {
			t.Errorf("sync %d: %d version 0 listings and %d upload-pack POSTs, want 1 and %d: %+v", i+1, st.InfoRefsUploadPack, st.UploadPackPOSTs, wantPOSTs, st)
		}
		if got := outcome(res, "refs/heads/main"); got.Outcome != mirror.Updated {
			t.Errorf("sync %d: main = %+v, want updated", i+1, got)
		}
		if n := strings.Count(b.logs.String(), "did not answer a protocol version 2 ls-refs, but did in version 0"); n != 1 {
			t.Errorf("sync %d: the fallback logged %d times, want once:\n%s", i+1, n, b.logs.String())
		}
		b.assertInSync(t)
	}
}

// A source that answers ls-refs with something else than a listing (an
// ERR line, as JGit does for a request it cannot read, or an HTTP error)
// but lists in version 0 is listed in version 0 in the same sync. Unless
// the failure was transient (a 5xx), it is remembered as not speaking
// version 2, and the next sync lists in version 0 at once. One that cannot
// be listed either way fails the sync with the version 0 listing's error,
// and nothing is remembered.
func TestLsRefsRefusals(t *testing.T) {
	tests := map[string]struct {
		answer     func(w http.ResponseWriter)
		revoke     bool // the source's token is revoked: no listing works
		wantSync   bool
		remembered bool // the refusal of version 2
	}{
		"ERR line": {answer: func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/x-git-upload-pack-result")
			line := "ERR expected want; got command=ls-refs (v0 only)\n"
			fmt.Fprintf(w, "%04x%s", len(line)+4, line)
		}, wantSync: true, remembered: true},
		"HTTP 400": {answer: func(w http.ResponseWriter) {
			http.Error(w, "unknown request", http.StatusBadRequest)
		}, wantSync: true, remembered: true},
		"HTTP 503, transient": {answer: func(w http.ResponseWriter) {
			http.Error(w, "try later", http.StatusServiceUnavailable)
		}, wantSync: true},
		"revoked token": {revoke: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			b := setup(t)
			seed(t, b)
			opts := b.options()
			opts.CacheDir = t.TempDir()
			opts.Attempts = 1
			b.sync(t, opts)
			b.work.Commit("four", map[string]string{"a.txt": "4"})
			b.pushSource(t, "main")
			if tt.revoke {
				b.forge.RevokeToken(srcToken)
			}
			var mu sync.Mutex
			answered := 0
			b.forge.OnServe(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
				if tt.answer != nil && hasV2Command(t, r, "ls-refs") {
					mu.Lock()
					answered++
					mu.Unlock()
					tt.answer(w)
					return
				}
				next.ServeHTTP(w, r)
			})
			b.forge.ResetStats()
			res, err := mirror.Sync(context.Background(), opts)
			st := b.forge.Stats()
			refused := strings.Contains(capsFile(t, opts.CacheDir), "v2 refused")
			if refused != tt.remembered {
				t.Errorf("refusal of version 2 remembered: %v, want %v", refused, tt.remembered)
			}
			if !tt.wantSync {
				if err == nil || failure.ClassOf(err) != failure.Auth {
					t.Fatalf("sync: %v, want an auth error", err)
				}
				if st.LsRefs != 1 || st.InfoRefsUploadPack != 1 {
					t.Errorf("%+v: want one ls-refs and one version 0 listing", st)
				}
				return
			}
			if err != nil {
				t.Fatalf("sync: %v", err)
			}
			if got := outcome(res, "refs/heads/main"); got.Outcome != mirror.Updated {
				t.Errorf("main = %+v, want updated", got)
			}
			b.assertInSync(t)
			mu.Lock()
			n := answered
			mu.Unlock()
			if n != 1 || st.InfoRefsUploadPack != 1 {
				t.Errorf("%d ls-refs refused, %d version 0 listings; want 1 and 1", n, st.InfoRefsUploadPack)
			}
			// The next sync lists in version 0 at once, or tries
			// version 2 again after a transient failure.
			b.forge.ResetStats()
			b.sync(t, opts)
			mu.Lock()
			again := answered - n
			mu.Unlock()
			if wantAgain := map[bool]int{true: 0, false: 1}[tt.remembered]; again != wantAgain || b.forge.Stats().InfoRefsUploadPack != 1 {
				t.Errorf("next sync: %d ls-refs and %+v, want %d and a version 0 listing", again, b.forge.Stats(), wantAgain)
			}
		})
	}
}

// A hinted sync whose version 2 prefetch the source refuses with an ERR
// line fetches in version 0 at once, in the same prefetch, and later
// prefetches (and listings) use version 0.
func TestPrefetchV2RefusedWithERR(t *testing.T) {
	b, opts := hintedBundle(t)
	var mu sync.Mutex
	refusedFetches := 0
	b.forge.OnServe(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if hasV2Command(t, r, "fetch") {
			mu.Lock()
			refusedFetches++
			mu.Unlock()
			w.Header().Set("Content-Type", "application/x-git-upload-pack-result")
			line := "ERR unknown command\n"
			fmt.Fprintf(w, "%04x%s", len(line)+4, line)
			return
		}
		next.ServeHTTP(w, r)
	})
	for i := range 2 {
		res := b.pushHinted(t, opts, "main", fmt.Sprintf("new %d", i), map[string]string{"a.txt": fmt.Sprint(i)})
		if got := outcome(res, "refs/heads/main"); got.Outcome != mirror.Updated {
			t.Errorf("sync %d: main = %+v, want updated", i+1, got)
		}
		b.assertInSync(t)
		if n := strings.Count(b.logs.String(), "fetched the hinted commits beside the listings"); n != i+1 {
			t.Errorf("sync %d: the prefetched pack was used in %d of %d syncs", i+1, n, i+1)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if refusedFetches != 1 {
		t.Errorf("%d version 2 fetches refused, want 1: the refusal was not remembered", refusedFetches)
	}
}
