package forgetest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cgi"
	"os"
	"strings"
	"time"
)

// kind is a smart-HTTP request type.
type kind int

const (
	notGit kind = iota
	infoRefsUpload
	infoRefsReceive
	uploadPack
	receivePack
	// lsRefs is an upload-pack POST in protocol version 2 whose command
	// is ls-refs: a listing, not a fetch (isLsRefs).
	lsRefs
)

// serve is the server's root handler: latency for every request, then the
// mux, through OnServe's function when one is set.
func (f *Forge) serve(w http.ResponseWriter, r *http.Request) {
	f.inflight.Add(1)
	defer f.inflight.Done()
	if d := time.Duration(f.latency.Load()); d > 0 {
		timer := time.NewTimer(d)
		select {
		case <-timer.C:
		case <-r.Context().Done():
			timer.Stop()
			return
		}
	}
	f.mu.Lock()
	around := f.onServe
	f.mu.Unlock()
	if around != nil {
		around(w, r, f.mux)
		return
	}
	f.mux.ServeHTTP(w, r)
}

// serveGit serves /{owner}/{repo}[.git]/{info/refs,git-upload-pack,git-receive-pack}
// through git http-backend. Only smart HTTP is served; dumb HTTP paths are 404.
// Git LFS routes ({repo}.git/info/lfs/...) go to serveLFS.
func (f *Forge) serveGit(w http.ResponseWriter, r *http.Request) {
	if owner, repo, rest, ok := lfsRoute(r.URL.Path); ok {
		f.serveLFS(w, r, owner, repo, rest)
		return
	}
	defer f.gitServing()()
	owner, repo, k, ok := route(r)
	if !ok {
		if f.serveReleaseDownload(w, r) { // giteereleases.go
			return
		}
		http.NotFound(w, r)
		return
	}
	if k == notGit {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if k == uploadPack && !f.cfg.noV2 {
		k, r.Body = f.isLsRefs(r)
	}
	f.countRequest(k)
	if code := f.takeFailure(); code != 0 {
		http.Error(w, http.StatusText(code), code)
		return
	}
	need := Read
	if k == infoRefsReceive || k == receivePack {
		need = Write
	}
	login, ok := f.authorize(w, r, owner, repo, need)
	if !ok {
		return
	}
	f.mu.Lock()
	hook := f.onRequest
	f.mu.Unlock()
	if hook != nil {
		hook(r)
	}

	if k == receivePack {
		defer f.pushing(owner, repo)()
	}
	var body io.Reader = r.Body
	if k == receivePack {
		body = f.pushBody(r, body)
	}
	bytesAs := k
	if k == lsRefs {
		bytesAs = uploadPack
	}
	in := &countReader{r: body, f: f, k: bytesAs}
	out := &countWriter{ResponseWriter: w, f: f, k: bytesAs}
	if f.cfg.inProcessRefs && (k == infoRefsUpload || k == infoRefsReceive) && f.serveRefsInProcess(out, r, owner, repo, k) {
		return
	}

	req := r.Clone(r.Context())
	req.URL.Path = "/" + owner + "/" + repo + ".git" + gitSuffix(r.URL.Path)
	req.URL.RawPath = ""
	req.Header.Del("Authorization") // keep tokens out of the CGI environment
	if f.cfg.noV2 {
		req.Header.Del("Git-Protocol")
	}
	req.Body = in
	if r.Method == http.MethodPost {
		// Every body is read whole before git starts: net/http/cgi refuses
		// chunked bodies (git sends big pushes chunked), and git http-backend
		// 2.39 spins forever on a body shorter than its Content-Length, which
		// is what a client killed mid-push leaves. A cut body is refused here.
		body, n, done, err := f.buffer(in)
		if err == nil && r.ContentLength >= 0 && n != r.ContentLength {
			done()
			err = fmt.Errorf("body of %d bytes, Content-Length %d", n, r.ContentLength)
		}
		if err != nil {
			http.Error(w, "reading request body: "+err.Error(), http.StatusBadRequest)
			return
		}
		defer done()
		req.Body, req.ContentLength, req.TransferEncoding = body, n, nil
		if k == lsRefs && f.cfg.inProcessRefs && f.serveLsRefsInProcess(out, req, owner, repo) {
			return
		}
	}

	guardEnv, guard, guarded, err := f.workflowGuard(r, k)
	if err != nil {
		http.Error(w, "forgetest: "+err.Error(), http.StatusInternalServerError)
		return
	}
	var rw http.ResponseWriter = out
	if guarded {
		var send func()
		rw, send = guard(out)
		defer send()
	}
	if k == uploadPack {
		if d := f.takeDrop(); d != nil {
			defer d.finish(f)
			rw = d.wrap(out)
		}
	}
	h := &cgi.Handler{
		Path: f.backend,
		Dir:  f.repos,
		Env: append(append(gitEnv(f.home),
			"GIT_PROJECT_ROOT="+f.repos,
			"GIT_HTTP_EXPORT_ALL=1",
			"REMOTE_USER="+login,
		), guardEnv...),
		Logger: log.New(logWriter{t: f.t, prefix: "forgetest cgi: "}, "", 0),
		Stderr: logWriter{t: f.t, prefix: "forgetest git: "},
	}
	if f.cfg.lowPriority {
		h.Path, h.Args = f.nice, []string{"-n", "19", f.backend}
	}
	h.ServeHTTP(rw, req)
}

// route splits a Git URL path. ok is false for paths that are not Git
// routes; k is notGit for Git routes called with the wrong method.
func route(r *http.Request) (owner, repo string, k kind, ok bool) {
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 3)
	if len(parts) != 3 {
		return "", "", notGit, false
	}
	owner, repo = parts[0], strings.TrimSuffix(parts[1], ".git")
	if !validName(owner) || !validName(repo) {
		return "", "", notGit, false
	}
	method := http.MethodPost
	switch parts[2] {
	case "info/refs":
		method = http.MethodGet
		switch r.URL.Query().Get("service") {
		case "git-upload-pack":
			k = infoRefsUpload
		case "git-receive-pack":
			k = infoRefsReceive
		default:
			return "", "", notGit, false // dumb HTTP
		}
	case "git-upload-pack":
		k = uploadPack
	case "git-receive-pack":
		k = receivePack
	default:
		return "", "", notGit, false
	}
	if r.Method != method {
		k = notGit
	}
	return owner, repo, k, true
}

// isLsRefs tells an upload-pack POST in protocol version 2 whose command
// is ls-refs (a listing) from a fetch, by the request's first pkt-line,
// which it peeks at. It returns the request's kind and the body to read
// from then on.
func (f *Forge) isLsRefs(r *http.Request) (kind, io.ReadCloser) {
	if !strings.Contains(r.Header.Get("Git-Protocol"), "version=2") || r.Header.Get("Content-Encoding") != "" {
		return uploadPack, r.Body
	}
	const first = "0014command=ls-refs\n"
	br := bufio.NewReaderSize(r.Body, 64)
	body := struct {
		io.Reader
		io.Closer
	}{br, r.Body}
	if p, _ := br.Peek(len(first)); string(p) == first {
		return lsRefs, body
	}
	return uploadPack, body
}

// gitSuffix is the part of a Git URL path after /{owner}/{repo}[.git].
func gitSuffix(path string) string {
	parts := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 3)
	return "/" + parts[2]
}

// nopCloser is a body in memory that can be read again (Seek), unlike
// io.NopCloser's.
type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// memBodyLimit is how much of a chunked request body is kept in memory
// before it goes to a temp file.
const memBodyLimit = 1 << 20

// buffer reads a whole request body so its length is known. A large body
// goes to a temp file, handed to git http-backend as its standard input
// without a copy; done removes it.
func (f *Forge) buffer(r io.Reader) (body io.ReadCloser, n int64, done func(), err error) {
	var mem bytes.Buffer
	n, err = io.CopyN(&mem, r, memBodyLimit+1)
	if err != nil && err != io.EOF {
		return nil, 0, nil, err
	}
	if n <= memBodyLimit {
		return nopCloser{bytes.NewReader(mem.Bytes())}, n, func() {}, nil
	}
	file, err := os.CreateTemp(f.spool, "body-")
	if err != nil {
		return nil, 0, nil, err
	}
	done = func() {
		file.Close()
		os.Remove(file.Name())
	}
	if _, err = mem.WriteTo(file); err == nil {
		_, err = io.Copy(file, r)
	}
	if err == nil {
		n, err = file.Seek(0, io.SeekCurrent)
	}
	if err == nil {
		_, err = file.Seek(0, io.SeekStart)
	}
	if err != nil {
		done()
		return nil, 0, nil, err
	}
	return file, n, done, nil
}
