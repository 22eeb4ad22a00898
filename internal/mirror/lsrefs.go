package mirror

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing/format/pktline"
)

// sourcePrefixes are the refs a sync reads from its source: the branches
// and tags it may mirror, and the backups a two-way sync's leg towards the
// source names its own after (backupName). Everything else a source has
// (GitHub's refs/pull/*, often more refs than all the rest together) is
// never read, so it is not asked for.
var sourcePrefixes = []string{"refs/heads/", "refs/tags/", backupPrefix}

// lsRefs lists the refs under prefixes with Git's protocol version 2
// ls-refs command (gitprotocol-v2) instead of a version 0 advertisement.
// Its reasons are the server's work and the bytes: the advertisement lists
// every ref the repository has and, for upload-pack, peels every annotated
// tag, on every sync; ls-refs lists only the prefixes asked for, and
// without "peel" peels nothing (a source's peeled values are never read:
// only the target's are, in peelTargetTags). The result has refs only: no
// capabilities, which version 2 gives apart (the caller has them from an
// earlier version 0 listing, capCache).
//
// A server that does not speak version 2 (or a proxy that drops the
// Git-Protocol header) answers as a version 0 upload-pack does, which dies
// on the request's first line: an *errNotV2. On that, or any other
// failure, listSource lists in version 0 instead.
func (r *remote) lsRefs(ctx context.Context, prefixes []string) (*advRefs, error) {
	var body bytes.Buffer
	if err := encodeLines(&body, []string{"command=ls-refs", "agent=" + r.agent}); err != nil {
		return nil, err
	}
	body.WriteString("0001") // delim-pkt: the command's arguments follow
	args := make([]string, 0, len(prefixes)+1)
	for _, p := range prefixes {
		args = append(args, "ref-prefix "+p)
	}
	if err := encodeLines(&body, append(args, "")); err != nil {
		return nil, err
	}
	resp, err := r.postUploadPack(ctx, &body, "version=2")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	ar, err := decodeLsRefs(resp.Body, maxAdvertisement)
	var nv *errNotV2
	switch {
	case errors.As(err, &nv):
		nv.answer = r.redact(nv.answer)
		return nil, nv
	case errors.Is(err, errAdvertisementTooLarge):
		return nil, r.tooMuch(fmt.Sprintf("a ref listing of more than %d MiB", maxAdvertisement>>20))
	case err != nil:
		return nil, r.streamError(ctx, fmt.Errorf("error reading ref listing: %w", err))
	}
	return ar, nil
}

// decodeLsRefs decodes the answer to an ls-refs command of at most limit
// bytes: one pkt-line "<id> <name>[ <attribute>]..." a ref, then a
// flush-pkt. HEAD, which a server that ignores the prefixes may list, is
// left out, as decodeAdvRefs does. A "peeled:<id>" attribute is kept in
// Peeled; other attributes (symref-target) and the "unborn" lines of a
// HEAD with no commit are skipped. An answer that ends before its first
// line, or whose first line is neither a ref line, the flush-pkt nor an
// ERR line, is an *errNotV2: what a version 0 server sends. Ids are parsed
// as in decodeAdvRefs (errAdvID).
func decodeLsRefs(body io.Reader, limit int64) (*advRefs, error) {
	return decodeCapped(body, limit, (*advDecoder).decodeLsRefs)
}

func (d *advDecoder) decodeLsRefs() (*advRefs, error) {
	ar := newAdvRefs()
	for {
		p, flush, err := d.next()
		switch {
		case err != nil && d.line == 1 && !isErrorLine(err):
			if errors.Is(err, errEmptyAdvertisement) {
				return nil, &errNotV2{command: "ls-refs", answer: "an empty answer"}
			}
			return nil, &errNotV2{command: "ls-refs", answer: "a broken first pkt-line (" + err.Error() + ")"}
		case err != nil:
			return nil, err
		case flush:
			return ar, nil
		}
		id, rest, _ := bytes.Cut(p, []byte{' '})
		name, attrs, _ := bytes.Cut(rest, []byte{' '})
		if string(id) == "unborn" && len(name) > 0 {
			continue
		}
		h, err := d.exactID(id)
		if err == nil && len(name) == 0 {
			err = fmt.Errorf("pkt-line %d: malformed ref line: no name after the id", d.line)
		}
		if err != nil {
			if d.line == 1 {
				return nil, &errNotV2{command: "ls-refs", answer: fmt.Sprintf("%q", firstLine(string(p)))}
			}
			return nil, err
		}
		if string(name) == "HEAD" { // as in an advertisement: not a ref of its own
			continue
		}
		ar.References[string(name)] = h
		for len(attrs) > 0 {
			var attr []byte
			attr, attrs, _ = bytes.Cut(attrs, []byte{' '})
			if v, ok := bytes.CutPrefix(attr, []byte("peeled:")); ok {
				p, err := d.exactID(v)
				if err != nil {
					return nil, err
				}
				ar.Peeled[string(name)] = p
			}
		}
	}
}

// isErrorLine reports whether err is a pkt-line "ERR <message>": the
// server's own refusal, in either protocol version.
func isErrorLine(err error) bool {
	var el *pktline.ErrorLine
	return errors.As(err, &el)
}
