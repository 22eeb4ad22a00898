package forgetest

import (
	"io"
	"net/http"
)

// DetectOverlappingPushes makes the forge fail the test when two
// receive-pack POSTs to one repository are served at the same time: the
// sign that two syncs of one mirror ran at once (two App replicas, or a
// replica taken for dead that was not). Each overlap is reported with
// t.Errorf, as it happens, and listed by [Forge.PushOverlaps].
func DetectOverlappingPushes() Option { return func(c *config) { c.detectOverlap = true } }

// PushOverlaps lists the repositories ("owner/name") that had two
// receive-packs served at once, one entry per overlap, whether or not
// [DetectOverlappingPushes] is set.
func (f *Forge) PushOverlaps() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.overlaps...)
}

// OnPushBody sets a callback run while the body of a receive-pack POST
// arrives, after each read, with the number of body bytes read so far. It
// may block: the push then stalls part-way through its pack. An error cuts
// the body there, as a connection lost mid-pack does (a killed process's
// kernel still sends what it had buffered; a lost machine's does not): the
// push is refused and nothing of it lands. It runs on the server's
// goroutine: use t.Error there, not t.Fatal. nil removes it.
func (f *Forge) OnPushBody(fn func(r *http.Request, read int64) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onPushBody = fn
}

// WaitPushes returns once n receive-packs to owner/name are being served
// at the same time.
func (f *Forge) WaitPushes(owner, name string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.pushes[owner+"/"+name] < n {
		f.idle().Wait()
	}
}

// pushing counts a receive-pack to owner/name as being served until the
// returned function is called, and records an overlap with another.
func (f *Forge) pushing(owner, name string) func() {
	key := owner + "/" + name
	f.mu.Lock()
	if f.pushes == nil {
		f.pushes = map[string]int{}
	}
	f.pushes[key]++
	overlap := f.pushes[key] > 1
	if overlap {
		f.overlaps = append(f.overlaps, key)
	}
	f.idle().Broadcast() // WaitPushes
	f.mu.Unlock()
	if overlap && f.cfg.detectOverlap {
		f.t.Errorf("forgetest: two receive-packs to %s at once: two syncs of one repository overlap", key)
	}
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.pushes[key]--; f.pushes[key] == 0 {
			delete(f.pushes, key)
		}
	}
}

// pushBody wraps a receive-pack body so that the OnPushBody callback sees
// it arrive; without a callback it returns body.
func (f *Forge) pushBody(r *http.Request, body io.Reader) io.Reader {
	f.mu.Lock()
	fn := f.onPushBody
	f.mu.Unlock()
	if fn == nil {
		return body
	}
	return &watchedBody{r: body, req: r, fn: fn}
}

type watchedBody struct {
	r    io.Reader
	req  *http.Request
	fn   func(*http.Request, int64) error
	read int64
	cut  error
}

func (w *watchedBody) Read(p []byte) (int, error) {
	if w.cut != nil {
		return 0, w.cut
	}
	n, err := w.r.Read(p)
	if n > 0 {
		w.read += int64(n)
		if cut := w.fn(w.req, w.read); cut != nil {
			w.cut = cut
			return n, cut
		}
	}
	return n, err
}
