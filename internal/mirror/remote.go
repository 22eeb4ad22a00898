package mirror

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/pktline"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
)

const (
	uploadPack  = "git-upload-pack"
	receivePack = "git-receive-pack"
)

// remote speaks Git's smart HTTP protocol (v0) to one repository. It never
// puts credentials into a URL: they travel as basic auth on each request.
type remote struct {
	side   string // "source" or "target", for messages
	url    string // credential-free, no trailing slash
	user   string
	token  string
	client *http.Client
	agent  string
	redact func(string) string
	// progress counts pack bytes for Options.Progress; nil without it.
	progress *tracker
	// needLength: the server refused a chunked push (chunked.go); packs go
	// to it spooled, with their length, from then on.
	needLength bool
}

func newRemote(side string, ep Endpoint, client *http.Client, agent string, redact func(string) string) (*remote, error) {
	u, err := url.Parse(ep.URL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, failure.New(failure.Invalid, "%s URL %q is not an http(s) Git URL", side, redact(ep.URL))
	}
	if u.User != nil {
		return nil, failure.New(failure.Invalid, "%s URL must not contain credentials: pass the token separately (it would leak into logs)", side)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, failure.New(failure.Invalid, "%s URL %q must not have a query or fragment", side, u.Redacted())
	}
	user := ep.Username
	if user == "" && ep.Token != "" {
		user = "x-access-token"
	}
	return &remote{
		side: side, url: strings.TrimRight(u.String(), "/"),
		user: user, token: ep.Token, client: client, agent: agent, redact: redact,
	}, nil
}

func (r *remote) newRequest(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, r.url+path, body)
	if err != nil {
		return nil, fmt.Errorf("error building request: %w", err)
	}
	if r.token != "" {
		req.SetBasicAuth(r.user, r.token)
	}
	req.Header.Set("User-Agent", "git/2.0 ("+r.agent+")")
	return req, nil
}

// do sends a request and classifies transport and HTTP failures.
func (r *remote) do(req *http.Request, wantType string) (*http.Response, error) {
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, r.transportError(req.Context(), err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		if refusedStream(req, resp) {
			return nil, r.lengthError(r.statusError(resp, body))
		}
		return nil, r.statusError(resp, body)
	}
	if ct := resp.Header.Get("Content-Type"); wantType != "" && ct != wantType {
		resp.Body.Close()
		return nil, failure.New(failure.Invalid,
			"%s %s answered with %q, not Git's smart HTTP protocol: check that the URL names a Git repository", r.side, r.url, ct)
	}
	return resp, nil
}

// advertise lists the repository's refs as service (upload-pack for reading,
// receive-pack for writing) sees them.
func (r *remote) advertise(ctx context.Context, service string) (*advRefs, error) {
	req, err := r.newRequest(ctx, http.MethodGet, "/info/refs?service="+service, nil)
	if err != nil {
		return nil, err
	}
	resp, err := r.do(req, "application/x-"+service+"-advertisement")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return r.decodeAdvertisement(ctx, resp.Body)
}

// fetch asks upload-pack for the objects reachable from wants but not from
// haves. acked reports whether the server had any of the haves. filter, when
// not empty, is an object filter (partial clone's "tree:0"): the caller has
// checked that the server advertises "filter". The returned reader yields
// the raw pack; close it when done.
func (r *remote) fetch(ctx context.Context, caps *capability.List, wants, haves []plumbing.Hash, thin bool, filter string) (pack io.ReadCloser, acked bool, err error) {
	var body bytes.Buffer
	want := []string{"side-band-64k", "ofs-delta", "no-progress", "agent=" + r.agent}
	if r.progress != nil && filter == "" {
		want = slices.DeleteFunc(want, func(c string) bool { return c == "no-progress" }) // someone watches
	}
	if thin {
		want = append(want, "thin-pack")
	}
	if filter != "" {
		want = append(want, string(capability.Filter))
	}
	var use []string
	for _, c := range want {
		name, _, _ := strings.Cut(c, "=")
		if caps.Supports(capability.Capability(name)) {
			use = append(use, c)
		}
	}
	if !caps.Supports(capability.Sideband64k) {
		return nil, false, failure.New(failure.Invalid, "%s does not support side-band-64k; this Git server is too old", r.side)
	}
	lines := make([]string, 0, len(wants)+len(haves)+2)
	for i, w := range wants {
		if i == 0 {
			lines = append(lines, "want "+w.String()+" "+strings.Join(use, " "))
		} else {
			lines = append(lines, "want "+w.String())
		}
	}
	if filter != "" {
		lines = append(lines, "filter "+filter)
	}
	lines = append(lines, "")
	for _, h := range haves {
		lines = append(lines, "have "+h.String())
	}
	lines = append(lines, "done")
	if err := encodeLines(&body, lines); err != nil {
		return nil, false, err
	}
	resp, err := r.postUploadPack(ctx, &body, "")
	if err != nil {
		return nil, false, err
	}
	sc := pktline.NewScanner(resp.Body)
	for lines := 0; ; lines++ {
		if lines > len(haves)+maxNegotiationLines {
			resp.Body.Close()
			return nil, false, r.tooMuch(fmt.Sprintf("more than %d negotiation lines before the pack", len(haves)+maxNegotiationLines))
		}
		if !sc.Scan() {
			resp.Body.Close()
			err := sc.Err()
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return nil, false, r.streamError(ctx, fmt.Errorf("error reading fetch response: %w", err))
		}
		p := sc.Bytes()
		switch {
		case bytes.HasPrefix(p, []byte("ACK ")):
			acked = true
			continue
		case bytes.HasPrefix(p, []byte("NAK")), bytes.HasPrefix(p, []byte("shallow ")):
			continue
		case bytes.HasPrefix(p, []byte("ERR ")):
			resp.Body.Close()
			return nil, false, r.remoteError(ctx, &errRemote{msg: string(bytes.TrimSpace(p[4:]))})
		}
		// A filtered fetch only feeds the commit graph beside the relay:
		// it is not the transfer Options.Progress reports.
		progress := r.progress
		if filter != "" {
			progress = nil
		}
		return r.packStream(ctx, sc, append([]byte(nil), p...), resp.Body, progress), acked, nil
	}
}

// postUploadPack sends a request body to upload-pack; protocol, when not
// "", is the Git-Protocol header (version=2).
func (r *remote) postUploadPack(ctx context.Context, body *bytes.Buffer, protocol string) (*http.Response, error) {
	req, err := r.newRequest(ctx, http.MethodPost, "/"+uploadPack, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-git-upload-pack-request")
	req.Header.Set("Accept", "application/x-git-upload-pack-result")
	if protocol != "" {
		req.Header.Set("Git-Protocol", protocol)
	}
	return r.do(req, "application/x-git-upload-pack-result")
}

// packStream is the pack in the side-band pkt-lines sc reads on from
// first (nil: none read yet); progress, when not nil, counts it and gets
// the server's messages. Closing it closes body.
func (r *remote) packStream(ctx context.Context, sc *pktline.Scanner, first []byte, body io.Closer, progress *tracker) io.ReadCloser {
	var onProgress func([]byte)
	if progress != nil {
		onProgress = progress.remoteMessage
	}
	sb := newSidebandReader(sc, first, onProgress)
	return &packReader{r: progress.receiving(sb), body: body, remote: r, ctx: ctx}
}

// packReader is a fetched pack: it classifies errors met while streaming.
type packReader struct {
	r      io.Reader
	body   io.Closer
	remote *remote
	ctx    context.Context
}

func (p *packReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if err != nil && err != io.EOF {
		var re *errRemote
		if errors.As(err, &re) {
			return n, p.remote.remoteError(p.ctx, re)
		}
		return n, p.remote.streamError(p.ctx, err)
	}
	return n, err
}

func (p *packReader) Close() error { return p.body.Close() }

// command is one ref update sent to receive-pack.
type command struct {
	ref      string
	old, new plumbing.Hash
}

// refStatus is receive-pack's verdict on one command.
type refStatus struct {
	ok     bool
	reason string
}

// pushReport is receive-pack's answer.
type pushReport struct {
	unpackErr string // "" when the pack was accepted
	refs      map[string]refStatus
	messages  string // what hooks printed (band 2), for rejected refs
}

// push sends ref update commands and a pack (nil for deletions only) to
// receive-pack, streaming the pack.
func (r *remote) push(ctx context.Context, caps *capability.List, cmds []command, pack io.Reader, size int64) (*pushReport, error) {
	use := []string{"report-status", "side-band-64k", "quiet", "agent=" + r.agent}
	if caps.Supports(capability.OFSDelta) {
		use = append(use, "ofs-delta")
	}
	var have []string
	for _, c := range use {
		name, _, _ := strings.Cut(c, "=")
		if caps.Supports(capability.Capability(name)) {
			have = append(have, c)
		}
	}
	var head bytes.Buffer
	lines := make([]string, 0, len(cmds)+1)
	for i, c := range cmds {
		l := c.old.String() + " " + c.new.String() + " " + c.ref
		if i == 0 {
			l += "\x00" + strings.Join(have, " ")
		}
		lines = append(lines, l)
	}
	lines = append(lines, "")
	if err := encodeLines(&head, lines); err != nil {
		return nil, err
	}
	var body io.Reader = &head
	length := int64(head.Len())
	if pack != nil {
		body = io.MultiReader(&head, r.progress.sending(pack))
		if size >= 0 {
			length += size
		} else {
			length = -1
		}
	}
	req, err := r.newRequest(ctx, http.MethodPost, "/"+receivePack, body)
	if err != nil {
		return nil, err
	}
	req.ContentLength = length
	req.Header.Set("Content-Type", "application/x-git-receive-pack-request")
	req.Header.Set("Accept", "application/x-git-receive-pack-result")
	resp, err := r.do(req, "application/x-git-receive-pack-result")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	rep := &pushReport{refs: make(map[string]refStatus, len(cmds))}
	var progress strings.Builder
	var status io.Reader = resp.Body
	if caps.Supports(capability.Sideband64k) {
		status = newSidebandReader(pktline.NewScanner(resp.Body), nil, func(b []byte) {
			if progress.Len() < 8192 {
				progress.Write(b)
			}
		})
	}
	err = parseReportStatus(status, rep, len(cmds)+maxReportExtra)
	rep.messages = r.redact(strings.TrimSpace(progress.String()))
	if err != nil {
		var re *errRemote
		if errors.As(err, &re) {
			return rep, r.remoteError(ctx, re)
		}
		if errors.Is(err, errTooManyLines) {
			return rep, r.tooMuch(fmt.Sprintf("a push report of more than %d lines for %d commands", len(cmds)+maxReportExtra, len(cmds)))
		}
		return rep, r.streamError(ctx, fmt.Errorf("error reading push report: %w", err))
	}
	return rep, nil
}

// errTooManyLines is a push report longer than the commands sent explain.
var errTooManyLines = errors.New("too many report-status lines")

// parseReportStatus reads receive-pack's report into rep, at most maxLines
// lines of it.
func parseReportStatus(rd io.Reader, rep *pushReport, maxLines int) error {
	sc := pktline.NewScanner(rd)
	first := true
	for lines := 0; sc.Scan(); lines++ {
		if lines >= maxLines {
			return errTooManyLines
		}
		line := strings.TrimSuffix(string(sc.Bytes()), "\n")
		if line == "" {
			return nil
		}
		if first {
			first = false
			st, ok := strings.CutPrefix(line, "unpack ")
			if !ok {
				return fmt.Errorf("unexpected report line %q", line)
			}
			if st != "ok" {
				rep.unpackErr = st
			}
			continue
		}
		switch {
		case strings.HasPrefix(line, "ok "):
			rep.refs[strings.TrimPrefix(line, "ok ")] = refStatus{ok: true}
		case strings.HasPrefix(line, "ng "):
			ref, reason, _ := strings.Cut(strings.TrimPrefix(line, "ng "), " ")
			rep.refs[ref] = refStatus{reason: reason}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if first {
		return errNoPack
	}
	return nil
}
