package mirror

import (
	"bytes"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
)

// scanPack reads a pack stream and records every commit and annotated tag in
// g (with its parents, or the tag's target). Trees and blobs are inflated and
// discarded. Deltas against commits or tags earlier in the pack are resolved;
// a delta against an object outside the pack (a thin pack's base) is taken to
// be a tree or blob, which is what git's pack-objects uses as thin bases. A
// commit missed that way only makes an ancestry answer Unknown, never wrong.
//
// scanPack reads r to its end even when it stops recording, so that a tee
// feeding it never blocks.
func scanPack(r io.Reader, g *Graph) (err error) {
	defer func() {
		if err != nil {
			_, _ = io.Copy(io.Discard, r)
		}
	}()
	s := packfile.NewScanner(r)
	_, count, err := s.Header()
	if err != nil {
		return fmt.Errorf("error reading pack header: %w", err)
	}
	types := make(map[int64]plumbing.ObjectType, count)
	bodies := make(map[int64][]byte)        // commits and tags, for delta bases
	byHash := make(map[plumbing.Hash]int64) // commits and tags, for REF_DELTA bases
	var buf bytes.Buffer
	for i := uint32(0); i < count; i++ {
		h, err := s.NextObjectHeader()
		if err != nil {
			return fmt.Errorf("error reading pack object %d: %w", i, err)
		}
		typ := h.Type
		var base []byte
		switch h.Type {
		case plumbing.OFSDeltaObject:
			typ = types[h.OffsetReference]
			base = bodies[h.OffsetReference]
		case plumbing.REFDeltaObject:
			if off, ok := byHash[h.Reference]; ok {
				typ, base = types[off], bodies[off]
			} else {
				typ = plumbing.InvalidObject // external base: a tree or blob
			}
		}
		types[h.Offset] = typ
		if typ != plumbing.CommitObject && typ != plumbing.TagObject {
			if _, _, err := s.NextObject(io.Discard); err != nil {
				return fmt.Errorf("error reading pack object %d: %w", i, err)
			}
			continue
		}
		buf.Reset()
		if _, _, err := s.NextObject(&buf); err != nil {
			return fmt.Errorf("error reading pack object %d: %w", i, err)
		}
		body := append([]byte(nil), buf.Bytes()...)
		if h.Type == plumbing.OFSDeltaObject || h.Type == plumbing.REFDeltaObject {
			if base == nil {
				continue
			}
			if body, err = packfile.PatchDelta(base, body); err != nil {
				return fmt.Errorf("error resolving delta of pack object %d: %w", i, err)
			}
		}
		bodies[h.Offset] = body
		id := plumbing.ComputeHash(typ, body)
		byHash[id] = h.Offset
		g.Add(id, objectLinks(typ, body))
	}
	if _, err := s.Checksum(); err != nil {
		return fmt.Errorf("error reading pack trailer: %w", err)
	}
	return nil
}

// objectLinks returns a commit's parents or a tag's target, read from the
// object's header lines.
func objectLinks(typ plumbing.ObjectType, body []byte) []plumbing.Hash {
	var key string
	if typ == plumbing.CommitObject {
		key = "parent "
	} else {
		key = "object "
	}
	var out []plumbing.Hash
	for len(body) > 0 {
		nl := bytes.IndexByte(body, '\n')
		if nl <= 0 { // blank line ends the header
			break
		}
		line := body[:nl]
		body = body[nl+1:]
		if bytes.HasPrefix(line, []byte(key)) && len(line) == len(key)+40 {
			out = append(out, plumbing.NewHash(string(line[len(key):])))
		}
	}
	return out
}
