package mirror

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/pktline"
)

// fetchV2 is fetch in Git's protocol version 2 (gitprotocol-v2, the fetch
// command), in one round: the wants, the haves and "done". Its reason is
// the server's work: an upload-pack answering a version 0 request over
// stateless HTTP first reads every ref of the repository to check the
// wants against them, on every request (617 loose refs of nginx/nginx:
// about 10 ms of a 35 ms prefetch here; a GitHub repository's
// refs/pull/* can be tens of thousands), while a version 2 fetch reads
// none. A server that does not speak version 2 answers with something
// other than a packfile section: an *errNotV2, on which the caller falls
// back to version 0 (prefetch.go).
func (r *remote) fetchV2(ctx context.Context, wants, haves []plumbing.Hash, thin bool) (io.ReadCloser, error) {
	var body bytes.Buffer
	if err := encodeLines(&body, []string{"command=fetch", "agent=" + r.agent}); err != nil {
		return nil, err
	}
	body.WriteString("0001") // delim-pkt: the command's arguments follow
	args := make([]string, 0, len(wants)+len(haves)+5)
	if thin {
		args = append(args, "thin-pack")
	}
	args = append(args, "ofs-delta")
	if r.progress == nil {
		args = append(args, "no-progress")
	}
	for _, w := range wants {
		args = append(args, "want "+w.String())
	}
	for _, h := range haves {
		args = append(args, "have "+h.String())
	}
	if err := encodeLines(&body, append(args, "done", "")); err != nil {
		return nil, err
	}
	resp, err := r.postUploadPack(ctx, &body, "version=2")
	if err != nil {
		return nil, err
	}
	sc := pktline.NewScanner(resp.Body)
	if !sc.Scan() {
		resp.Body.Close()
		if err := sc.Err(); err != nil {
			return nil, r.streamError(ctx, fmt.Errorf("error reading fetch response: %w", err))
		}
		// What a version 0 upload-pack leaves when it dies on the
		// request's first line.
		return nil, &errNotV2{command: "fetch", answer: "an empty answer"}
	}
	if p := sc.Bytes(); !bytes.Equal(bytes.TrimSuffix(p, []byte("\n")), []byte("packfile")) {
		resp.Body.Close()
		return nil, &errNotV2{command: "fetch", answer: r.redact(fmt.Sprintf("%q", firstLine(string(p))))}
	}
	return r.packStream(ctx, sc, nil, resp.Body, r.progress), nil
}

// errNotV2 is an answer to a protocol version 2 command that is not one:
// the server speaks version 0 only (or ignored the Git-Protocol header).
type errNotV2 struct{ command, answer string }

func (e *errNotV2) Error() string {
	return "the server answered a protocol version 2 " + e.command + " with " + e.answer + ", as a server of version 0 only does"
}
