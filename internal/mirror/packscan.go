package mirror

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"

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
// The pack comes from the source, so nothing it claims is trusted: memory
// stays within the limits in limits.go whatever the header, the object
// headers or the deltas say. A pack that breaks one, or ends before the
// objects its header announced, is a *packViolation. scanPack stops at the
// first error without reading r further.
func scanPack(r io.Reader, g *Graph) error { return scanPackLFS(r, g, nil) }

// scanPackLFS is scanPack that also hands every tree, blob and delta of
// one to l (when not nil), which finds the LFS pointers among them.
func scanPackLFS(r io.Reader, g *Graph, l *lfsScan) error {
	s := packfile.NewScanner(r)
	_, count, err := s.Header()
	if err != nil {
		return fmt.Errorf("error reading pack header: %w", err)
	}
	// Only commits and tags are remembered, by offset, as delta bases; the
	// count is only a claim, so it sizes nothing.
	types := make(map[int64]plumbing.ObjectType)
	bodies := make(map[int64][]byte)        // commits and tags, for delta bases
	byHash := make(map[plumbing.Hash]int64) // commits and tags, for REF_DELTA bases
	retained := 0
	var buf bytes.Buffer
	for i := uint32(0); i < count; i++ {
		h, err := s.NextObjectHeader()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return violation(failure.Network,
					"the source sent a pack whose header announces %d objects but that ends after %d", count, i)
			}
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
		if typ != plumbing.CommitObject && typ != plumbing.TagObject {
			if l != nil {
				if err := l.object(s, h); err != nil {
					return fmt.Errorf("error reading pack object %d: %w", i, err)
				}
				continue
			}
			if _, _, err := s.NextObject(io.Discard); err != nil {
				return fmt.Errorf("error reading pack object %d: %w", i, err)
			}
			continue
		}
		types[h.Offset] = typ
		if h.Length < 0 || h.Length > maxObjectSize {
			return violation(failure.Rejected,
				"the source sent a pack with a %s (or delta) of %d bytes; the limit is %d", typ, h.Length, maxObjectSize)
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
			if size, ok := deltaTargetSize(body); !ok || size > maxObjectSize {
				return violation(failure.Rejected,
					"the source sent a pack with a delta for a %s that would make %d bytes; the limit is %d", typ, size, maxObjectSize)
			}
			if body, err = packfile.PatchDelta(base, body); err != nil {
				return fmt.Errorf("error resolving delta of pack object %d: %w", i, err)
			}
		}
		if retained+len(body) <= maxRetainedBodies {
			// Beyond the budget a later delta against this object goes
			// unresolved, which only leaves an answer Unknown.
			bodies[h.Offset] = body
			retained += len(body)
		}
		id := plumbing.ComputeHash(typ, body)
		byHash[id] = h.Offset
		links := objectLinks(typ, body)
		if len(links) > maxParents {
			return violation(failure.Rejected,
				"the source sent a pack with a commit of %d parents; the limit is %d", len(links), maxParents)
		}
		g.Add(id, links)
	}
	if _, err := s.Checksum(); err != nil {
		return fmt.Errorf("error reading pack trailer: %w", err)
	}
	return nil
}

// deltaTargetSize reads the size of the object a delta makes from the
// delta's header (two LEB128 numbers: base size, then result size), so that
// nothing is allocated for a size the source made up.
func deltaTargetSize(delta []byte) (uint64, bool) {
	var sizes [2]uint64
	for n := range sizes {
		var v uint64
		for shift := uint(0); ; shift += 7 {
			if len(delta) == 0 || shift > 63 {
				return 0, false
			}
			b := delta[0]
			delta = delta[1:]
			v |= uint64(b&0x7f) << shift
			if b&0x80 == 0 {
				break
			}
		}
		sizes[n] = v
	}
	return sizes[1], true
}

// packViolation is a pack the source should never have sent: one over a
// limit, or one that ends before the objects its header announced. It
// carries a classified error for a person.
type packViolation struct{ err *failure.Error }

func violation(c failure.Class, format string, args ...any) error {
	return &packViolation{err: failure.New(c, format, args...)}
}

func (v *packViolation) Error() string { return v.err.Error() }
func (v *packViolation) Unwrap() error { return v.err }

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
