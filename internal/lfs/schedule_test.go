package lfs_test

import (
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/lfs"
)

// watcher is a transport that lets a test see, and hold, the requests of
// a Copier's clients.
type watcher struct {
	mu     sync.Mutex
	seen   []string                     // "GET <oid>", "PUT <oid>", "POST verify"
	before func(r *http.Request, n int) // runs before the request goes out; n counts the requests before it
}

func (w *watcher) RoundTrip(r *http.Request) (*http.Response, error) {
	what := r.Method + " " + path.Base(r.URL.Path)
	w.mu.Lock()
	n := len(w.seen)
	w.seen = append(w.seen, what)
	before := w.before
	w.mu.Unlock()
	if before != nil {
		before(r, n)
	}
	return http.DefaultTransport.RoundTrip(r)
}

func (w *watcher) requests() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.seen...)
}

// watched replaces the bundle's Copier by one whose clients go through a
// watcher, one object moving at a time.
func (b *bundle) watched(t *testing.T) *watcher {
	t.Helper()
	w := &watcher{}
	hc := &http.Client{Transport: w}
	src, err := lfs.NewClient(lfs.Remote{Side: "source", GitURL: b.forge.GitURL("gh", "proj"), Username: "alice", Token: srcToken}, hc, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	dst, err := lfs.NewClient(lfs.Remote{Side: "target", GitURL: b.forge.GitURL("ge", "proj"), Username: "bob", Token: dstToken}, hc, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	b.cp.Source, b.cp.Target, b.cp.Parallel = src, dst, 1
	return w
}

// The largest objects go first, so that none is left to run on alone at
// the end.
func TestCopyLargestFirst(t *testing.T) {
	b := setup(t)
	var ps []lfs.Pointer
	data := map[string][]byte{}
	for _, size := range []int{1_000, 50_000, 10_000, 30_000, 20_000} {
		p, d := b.seed(t, 1, size)
		ps = append(ps, p...)
		data[p[0].OID] = d[p[0].OID]
	}
	w := b.watched(t) // one transfer slot
	// Two workers (twice the slots) take the two largest objects and
	// race for the slot, so those two come first in either order (the
	// fresh-clone CI once saw 30000 before 50000); the slot's waiters
	// are served in turn after that.
	rep := b.copy(t, ps)
	if rep.Uploaded != len(ps) || !rep.Complete() {
		t.Fatalf("report = %+v", rep)
	}
	b.onTarget(t, data)
	var got []int
	for _, r := range w.requests() {
		if oid, ok := strings.CutPrefix(r, "GET "); ok {
			got = append(got, len(data[oid]))
		}
	}
	if len(got) != 5 || min(got[0], got[1]) != 30_000 || max(got[0], got[1]) != 50_000 ||
		!slices.Equal(got[2:], []int{20_000, 10_000, 1_000}) {
		t.Errorf("downloads by size: %v, want 50000 and 30000 first, then 20000, 10000, 1000", got)
	}
}

// An upload waiting for the target to verify it holds no transfer slot:
// with one slot, the next object's download starts while the first
// object's verification is held back.
func TestCopyVerifiesOutsideTheTransferSlots(t *testing.T) {
	b := setup(t)
	ps, data := b.seed(t, 3, 5_000)
	w := b.watched(t)
	nextDownload := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	held, overlapped, downloads := false, false, 0
	w.before = func(r *http.Request, _ int) {
		switch {
		case r.Method == http.MethodGet:
			mu.Lock()
			downloads++
			second := downloads == 2
			mu.Unlock()
			if second {
				once.Do(func() { close(nextDownload) })
			}
		case path.Base(r.URL.Path) == "verify":
			mu.Lock()
			first := !held
			held = true
			mu.Unlock()
			if !first {
				return
			}
			select {
			case <-nextDownload:
				mu.Lock()
				overlapped = true
				mu.Unlock()
			case <-time.After(time.Minute): // only a fallback: the copy ends either way
			}
		}
	}
	rep := b.copy(t, ps)
	if rep.Uploaded != 3 || !rep.Complete() {
		t.Fatalf("report = %+v", rep)
	}
	b.onTarget(t, data)
	if st := b.forge.LFSStats(); st.Verifies != 3 {
		t.Errorf("%d verifications, want 3", st.Verifies)
	}
	mu.Lock()
	defer mu.Unlock()
	if !overlapped {
		t.Errorf("no download started while the first verification was held: %v", w.requests())
	}
}

var _ http.RoundTripper = (*watcher)(nil)
