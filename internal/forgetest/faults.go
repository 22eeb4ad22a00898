package forgetest

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// FailNext makes the next n Git requests answer status (say 500, 502, 503
// or 429) with a plain-text body, before authentication. It replaces any
// failures still pending; n = 0 cancels them.
func (f *Forge) FailNext(n, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failN, f.failCode = n, status
}

func (f *Forge) takeFailure() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failN <= 0 {
		return 0
	}
	f.failN--
	return f.failCode
}

// DropNextPack cuts the next upload-pack response that carries a pack: the
// client gets the headers and the body up to a few bytes into the pack, then
// the connection closes without the end of the chunked body. Responses with
// no pack (negotiation rounds, protocol v2 ls-refs) pass untouched and leave
// the fault armed. Calls add up: two calls cut two packs.
func (f *Forge) DropNextPack() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drops++
}

// WaitGitIdle returns once no Git request is being served. A client that
// gave up on a request (a cancelled context, a dropped connection) does not
// stop git on the server at once: a test that cut a sync short waits here
// before it reads the repositories or starts the next sync.
func (f *Forge) WaitGitIdle() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.gitBusy > 0 {
		f.idle().Wait()
	}
}

// gitServing counts a Git request as being served until the returned
// function is called.
func (f *Forge) gitServing() func() {
	f.mu.Lock()
	f.gitBusy++
	f.mu.Unlock()
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.gitBusy--; f.gitBusy == 0 {
			f.idle().Broadcast()
		}
	}
}

func (f *Forge) idle() *sync.Cond { // with f.mu held
	if f.gitIdle == nil {
		f.gitIdle = sync.NewCond(&f.mu)
	}
	return f.gitIdle
}

// CancelDrops disarms the DropNextPack faults still pending.
func (f *Forge) CancelDrops() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drops = 0
}

func (f *Forge) takeDrop() *dropWriter {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.drops <= 0 {
		return nil
	}
	f.drops--
	return &dropWriter{cut: -1}
}

// SetLatency delays every request, Git or API, by d before it is handled.
func (f *Forge) SetLatency(d time.Duration) { f.latency.Store(int64(d)) }

// OnRequest sets a callback run for each Git request after it passed
// authentication and just before git http-backend serves it, e.g. to move a
// ref in the target repository right before a receive-pack POST. The callback
// must not read the request body. It runs on the server's goroutine: use
// SetRef, DeleteRef or t.Error there, not t.Fatal. nil removes it.
func (f *Forge) OnRequest(fn func(r *http.Request)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onRequest = fn
}

// OnServe sets a function run around every request the forge serves, Git
// or API, after SetLatency's delay: it serves r by calling next.ServeHTTP,
// and may hold r before or after that, or drop it by not calling next at
// all (the request then never reached the forge: nothing of it is done).
// Unlike OnRequest it sees API requests, and it runs before
// authentication. It must not read the body of a request it passes to
// next. It runs on the server's goroutine: use t.Error there, not t.Fatal.
// nil removes it; a call already running goes on with the old function.
func (f *Forge) OnServe(fn func(w http.ResponseWriter, r *http.Request, next http.Handler)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onServe = fn
}

// RejectRef makes owner/repo refuse any push to exactly ref (a full name such
// as "refs/heads/main") with message, through an update hook: other refs of
// the same push land. The client sees "remote: <message>" and the ref's
// status "hook declined". An empty message lifts the rule.
func (f *Forge) RejectRef(owner, repo, ref, message string) {
	f.t.Helper()
	if !f.exists(owner, repo) {
		f.t.Fatalf("forgetest: RejectRef: no repository %s/%s", owner, repo)
	}
	if !strings.HasPrefix(ref, "refs/") || strings.Contains(ref, "..") {
		f.t.Fatalf("forgetest: RejectRef: bad ref %q", ref)
	}
	gitDir := f.RepoPath(owner, repo)
	rules := filepath.Join(gitDir, "forgetest-reject")
	rule := filepath.Join(rules, filepath.FromSlash(ref))
	if message == "" {
		if err := os.Remove(rule); err != nil && !errors.Is(err, os.ErrNotExist) {
			f.t.Fatalf("forgetest: RejectRef: %v", err)
		}
		return
	}
	if !strings.HasSuffix(message, "\n") {
		message += "\n"
	}
	hook := "#!/bin/sh\n" +
		"# Installed by forgetest: refuses refs that have a message under " + rules + ".\n" +
		"rule=" + shellQuote(rules+"/") + "\"$1\"\n" +
		"if [ -f \"$rule\" ]; then cat \"$rule\" >&2; exit 1; fi\n" +
		"exit 0\n"
	err := os.MkdirAll(filepath.Dir(rule), 0o700)
	if err == nil {
		err = os.WriteFile(rule, []byte(message), 0o600)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(gitDir, "hooks", "update"), []byte(hook), 0o700)
	}
	if err != nil {
		f.t.Fatalf("forgetest: RejectRef: %v", err)
	}
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// packCutAfter is how many bytes of a pack, counted from "PACK", a dropped
// response still delivers: the 12-byte header and the start of an object.
const packCutAfter = 16

var errDropped = errors.New("forgetest: connection dropped on purpose")

// dropWriter passes an upload-pack response through until a few bytes past
// the pack signature, then hijacks the connection and closes it.
type dropWriter struct {
	w       http.ResponseWriter
	tail    []byte // last bytes written, to find "PACK" across writes
	pos     int64  // bytes passed so far
	cut     int64  // offset to cut at; -1 until the pack starts
	dropped bool
}

func (d *dropWriter) wrap(w http.ResponseWriter) http.ResponseWriter {
	d.w = w
	return d
}

func (d *dropWriter) Header() http.Header        { return d.w.Header() }
func (d *dropWriter) WriteHeader(statusCode int) { d.w.WriteHeader(statusCode) }

func (d *dropWriter) Write(p []byte) (int, error) {
	if d.dropped {
		return 0, errDropped
	}
	if d.cut < 0 {
		window := append(d.tail, p...)
		if i := bytes.Index(window, []byte("PACK")); i >= 0 {
			d.cut = d.pos - int64(len(d.tail)) + int64(i) + packCutAfter
		} else {
			d.tail = append(d.tail[:0], window[max(0, len(window)-3):]...)
		}
	}
	if d.cut < 0 || d.cut >= d.pos+int64(len(p)) {
		n, err := d.w.Write(p)
		d.pos += int64(n)
		return n, err
	}
	n, err := d.w.Write(p[:d.cut-d.pos])
	d.pos += int64(n)
	if err == nil {
		d.drop()
		err = errDropped
	}
	return n, err
}

// drop sends what was written and closes the connection under the client.
func (d *dropWriter) drop() {
	d.dropped = true
	rc := http.NewResponseController(d.w)
	rc.Flush()
	if conn, _, err := rc.Hijack(); err == nil {
		conn.Close()
	}
}

// finish cuts a response whose pack ended before the cut point, and re-arms
// the fault if the response had no pack at all.
func (d *dropWriter) finish(f *Forge) {
	switch {
	case d.dropped:
	case d.cut >= 0:
		d.drop()
	default:
		f.DropNextPack()
	}
}
