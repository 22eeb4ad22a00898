// Package localgit serves repositories on this machine over Git's smart
// HTTP protocol, on loopback and in-process, with go-git: the command line
// passes local paths to the sync core as if they were remote repositories,
// and the demo runs end to end without accounts or a git binary. The App
// never serves local paths.
package localgit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/pktline"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/sideband"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/server"
)

// Server serves a fixed set of local repositories on a loopback port.
type Server struct {
	srv   *http.Server
	base  string
	repos map[string]*repo // by URL path element, "0.git", "1.git", …
	done  chan struct{}
}

// repo is one served repository. mu serialises pushes, so that the
// compare-and-swap check of each ref update and the update itself happen
// together.
type repo struct {
	path   string
	storer storer.Storer
	mu     sync.Mutex
}

// Start serves the repositories at paths (a work tree or a bare
// repository each) until Close. URL(i) is the Git URL of paths[i].
func Start(paths ...string) (*Server, error) {
	s := &Server{repos: map[string]*repo{}, done: make(chan struct{})}
	for i, p := range paths {
		r, err := git.PlainOpen(p)
		if err != nil {
			return nil, fmt.Errorf("opening the repository at %s: %w", p, err)
		}
		abs, _ := filepath.Abs(p)
		s.repos[strconv.Itoa(i)+".git"] = &repo{path: abs, storer: r.Storer}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening on loopback to serve local repositories: %w", err)
	}
	s.base = "http://" + ln.Addr().String()
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve)}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// URL is the Git URL of the i-th repository given to Start.
func (s *Server) URL(i int) string { return s.base + "/" + strconv.Itoa(i) + ".git" }

// Close stops serving.
func (s *Server) Close() error {
	err := s.srv.Close()
	<-s.done
	return err
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	name, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	rp, ok := s.repos[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	var err error
	switch {
	case r.Method == http.MethodGet && rest == "info/refs":
		err = rp.advertise(r.Context(), w, r.URL.Query().Get("service"))
	case r.Method == http.MethodPost && rest == "git-upload-pack":
		err = rp.uploadPack(r.Context(), w, r.Body)
	case r.Method == http.MethodPost && rest == "git-receive-pack":
		err = rp.receivePack(r.Context(), w, r.Body)
	default:
		http.NotFound(w, r)
		return
	}
	if errors.Is(err, errBadService) {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	if err != nil {
		// Headers may be out already; the client sees a cut stream.
		http.Error(w, fmt.Sprintf("%s: %v", rp.path, err), http.StatusInternalServerError)
	}
}

var errBadService = errors.New("only git-upload-pack and git-receive-pack are served")

// session opens go-git's server side of service on the repository.
func (rp *repo) session(service string) (transport.UploadPackSession, transport.ReceivePackSession, error) {
	ep, err := transport.NewEndpoint("/" + rp.path)
	if err != nil {
		return nil, nil, err
	}
	srv := server.NewServer(server.MapLoader{ep.String(): rp.storer})
	switch service {
	case transport.UploadPackServiceName:
		up, err := srv.NewUploadPackSession(ep, nil)
		return up, nil, err
	case transport.ReceivePackServiceName:
		rcv, err := srv.NewReceivePackSession(ep, nil)
		return nil, rcv, err
	}
	return nil, nil, errBadService
}

// advertise answers GET info/refs. Upload-pack is advertised with
// side-band-64k, which this server adds around go-git's pack; receive-pack
// with no-thin, as go-git cannot complete a thin pack.
func (rp *repo) advertise(ctx context.Context, w http.ResponseWriter, service string) error {
	up, rcv, err := rp.session(service)
	if err != nil {
		return err
	}
	var ar *packp.AdvRefs
	if up != nil {
		ar, err = up.AdvertisedReferencesContext(ctx)
		if err == nil {
			err = ar.Capabilities.Set(capability.Sideband64k)
		}
	} else {
		ar, err = rcv.AdvertisedReferencesContext(ctx)
		if err == nil {
			err = ar.Capabilities.Set("no-thin")
		}
	}
	if err != nil {
		return err
	}
	ar.Prefix = [][]byte{[]byte("# service=" + service), pktline.Flush}
	w.Header().Set("Content-Type", "application/x-"+service+"-advertisement")
	w.Header().Set("Cache-Control", "no-cache")
	return ar.Encode(w)
}

// uploadPack answers a fetch: the wants and capabilities are go-git's to
// decode, the haves and "done" that follow them are read here, and the pack
// goes out on side band 1.
func (rp *repo) uploadPack(ctx context.Context, w http.ResponseWriter, body io.Reader) error {
	up, _, err := rp.session(transport.UploadPackServiceName)
	if err != nil {
		return err
	}
	if _, err := up.AdvertisedReferencesContext(ctx); err != nil {
		return err
	}
	// Protocol version 2 (a "command=" first line) is not spoken here: the
	// answer is the one git's upload-pack without it gives, nothing, on
	// which a client asks again in version 0.
	br := bufio.NewReader(body)
	if p, _ := br.Peek(12); len(p) == 12 && string(p[4:]) == "command=" {
		w.Header().Set("Content-Type", "application/x-git-upload-pack-result")
		return nil
	}
	body = br
	req := packp.NewUploadPackRequest()
	if err := req.Decode(body); err != nil {
		return fmt.Errorf("reading the fetch request: %w", err)
	}
	sc := pktline.NewScanner(body)
	for sc.Scan() {
		line := strings.TrimSpace(string(sc.Bytes()))
		if h, ok := strings.CutPrefix(line, "have "); ok && plumbing.IsHash(h) {
			req.Haves = append(req.Haves, plumbing.NewHash(h))
		}
		if line == "done" {
			break
		}
	}
	for _, c := range []capability.Capability{capability.Sideband64k, capability.Sideband, capability.NoProgress, capability.ThinPack} {
		req.Capabilities.Delete(c)
	}
	// Only the haves this repository has count: a fetch that names
	// commits it never saw must still get everything it wants.
	var common []plumbing.Hash
	for _, h := range req.Haves {
		if _, err := rp.storer.EncodedObject(plumbing.AnyObject, h); err == nil {
			common = append(common, h)
		}
	}
	req.Haves = common
	resp, err := up.UploadPack(ctx, req)
	if err != nil {
		return err
	}
	defer resp.Close()
	w.Header().Set("Content-Type", "application/x-git-upload-pack-result")
	enc := pktline.NewEncoder(w)
	if len(common) > 0 {
		err = enc.Encodef("ACK %s\n", common[0])
	} else {
		err = enc.Encodef("NAK\n")
	}
	if err != nil {
		return err
	}
	mux := sideband.NewMuxer(sideband.Sideband64k, w)
	if _, err := io.Copy(mux, resp); err != nil {
		return err
	}
	return enc.Flush()
}

// receivePack answers a push. Each update's old value is checked against
// the ref under the repository's lock (go-git's receive-pack does not), so
// a ref that moved since the client read it is refused, never overwritten.
func (rp *repo) receivePack(ctx context.Context, w http.ResponseWriter, body io.Reader) error {
	_, rcv, err := rp.session(transport.ReceivePackServiceName)
	if err != nil {
		return err
	}
	if _, err := rcv.AdvertisedReferencesContext(ctx); err != nil {
		return err
	}
	req := packp.NewReferenceUpdateRequest()
	if err := req.Decode(body); err != nil {
		return fmt.Errorf("reading the push request: %w", err)
	}
	if req.Packfile, err = nonEmptyPack(req.Packfile); err != nil {
		return err
	}
	rp.mu.Lock()
	defer rp.mu.Unlock()
	var stale []*packp.CommandStatus
	keep := req.Commands[:0]
	for _, cmd := range req.Commands {
		cur := plumbing.ZeroHash
		if ref, err := rp.storer.Reference(cmd.Name); err == nil {
			cur = ref.Hash()
		}
		if cur != cmd.Old {
			stale = append(stale, &packp.CommandStatus{ReferenceName: cmd.Name, Status: "stale info"})
			continue
		}
		keep = append(keep, cmd)
	}
	req.Commands = keep
	var rs *packp.ReportStatus
	if len(keep) > 0 || req.Packfile != nil {
		rs, _ = rcv.ReceivePack(ctx, req)
	}
	if rs == nil {
		rs = packp.NewReportStatus()
		rs.UnpackStatus = "ok"
	}
	rs.CommandStatuses = append(rs.CommandStatuses, stale...)
	w.Header().Set("Content-Type", "application/x-git-receive-pack-result")
	return rs.Encode(w)
}

// nonEmptyPack returns nil for a push that carries no pack, or a pack of
// no objects (deletions, backups of commits the repository has): go-git's
// receive-pack refuses an empty one.
func nonEmptyPack(pack io.ReadCloser) (io.ReadCloser, error) {
	if pack == nil {
		return nil, nil
	}
	br := bufio.NewReader(pack)
	head, err := br.Peek(12)
	if len(head) == 0 && errors.Is(err, io.EOF) {
		return nil, nil
	}
	if len(head) == 12 && bytes.HasPrefix(head, []byte("PACK")) && binary.BigEndian.Uint32(head[8:]) == 0 {
		return nil, nil
	}
	return io.NopCloser(br), nil
}
