package mirror

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

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
	return (&packScan{g: g, lfs: l}).run(r)
}

// scanPackSpooled is scanPack for a pack it also copies to spool, an empty
// file: it keeps no commit or tag bodies as delta bases, and reads the few
// deltas against them again from spool at the end. Its memory is then the
// graph's, whatever the pack holds; a commits-only pack is nearly all
// commits, of which few are deltas (14 of nginx's 9,827).
func scanPackSpooled(r io.Reader, g *Graph, spool *os.File) error {
	return (&packScan{g: g, spool: spool}).run(io.TeeReader(r, spool))
}

// packScan is one scan of a pack.
type packScan struct {
	g     *Graph
	lfs   *lfsScan
	spool *os.File // set: deltas of commits and tags are resolved from it at the end

	// Commits and tags remembered as delta bases, by offset: the latest
	// maxRetainedBodies bytes of them, or with a spool only their types.
	bases    map[int64]base
	byHash   map[plumbing.Hash]int64 // the same, for REF_DELTA bases
	order    []int64                 // offsets in bases, oldest first
	retained int
	pending  []int64 // with a spool: deltas of commits and tags, by offset
}

func (p *packScan) run(r io.Reader) error {
	s := packfile.NewScanner(r)
	_, count, err := s.Header()
	if err != nil {
		return fmt.Errorf("error reading pack header: %w", err)
	}
	// The count is only a claim, so it sizes nothing.
	p.bases = make(map[int64]base)
	p.byHash = make(map[plumbing.Hash]int64)
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
		var from []byte // the delta's base
		switch h.Type {
		case plumbing.OFSDeltaObject:
			// Not among the bases: a tree or blob, or a commit or tag
			// dropped from them (its delta is then left out: Unknown).
			b := p.bases[h.OffsetReference]
			typ, from = b.typ, b.body
		case plumbing.REFDeltaObject:
			// Not among the bases: an external base (a tree or blob), or
			// one dropped from them.
			if off, ok := p.byHash[h.Reference]; ok {
				b := p.bases[off]
				typ, from = b.typ, b.body
			} else {
				typ = plumbing.InvalidObject
			}
		}
		if typ != plumbing.CommitObject && typ != plumbing.TagObject {
			if p.lfs != nil {
				if err := p.lfs.object(s, h); err != nil {
					return fmt.Errorf("error reading pack object %d: %w", i, err)
				}
				continue
			}
			if _, _, err := s.NextObject(io.Discard); err != nil {
				return fmt.Errorf("error reading pack object %d: %w", i, err)
			}
			continue
		}
		if h.Length < 0 || h.Length > maxObjectSize {
			return violation(failure.Rejected,
				"the source sent a pack with a %s (or delta) of %d bytes; the limit is %d", typ, h.Length, maxObjectSize)
		}
		isDelta := h.Type == plumbing.OFSDeltaObject || h.Type == plumbing.REFDeltaObject
		buf.Reset()
		if _, _, err := s.NextObject(&buf); err != nil {
			return fmt.Errorf("error reading pack object %d: %w", i, err)
		}
		body := buf.Bytes()
		if isDelta {
			if size, ok := deltaTargetSize(body); !ok || size > maxObjectSize {
				return violation(failure.Rejected,
					"the source sent a pack with a delta for a %s that would make %d bytes; the limit is %d", typ, size, maxObjectSize)
			}
			if p.spool != nil && h.Type == plumbing.OFSDeltaObject {
				// Read again from the spool at the end; the base's type
				// is the delta's.
				p.pending = append(p.pending, h.Offset)
				p.bases[h.Offset] = base{typ: typ}
				continue
			}
			if from == nil {
				continue
			}
			if body, err = packfile.PatchDelta(from, body); err != nil {
				return fmt.Errorf("error resolving delta of pack object %d: %w", i, err)
			}
		}
		if err := p.add(h.Offset, typ, body); err != nil {
			return err
		}
	}
	if _, err := s.Checksum(); err != nil {
		return fmt.Errorf("error reading pack trailer: %w", err)
	}
	return p.resolvePending()
}

// add records one commit or tag in the graph, and keeps it as a delta base.
func (p *packScan) add(offset int64, typ plumbing.ObjectType, body []byte) error {
	id := plumbing.ComputeHash(typ, body)
	links := objectLinks(typ, body)
	if len(links) > maxParents {
		return violation(failure.Rejected,
			"the source sent a pack with a commit of %d parents; the limit is %d", len(links), maxParents)
	}
	p.g.Add(id, links)
	if p.spool != nil {
		p.bases[offset] = base{typ: typ}
		return nil
	}
	// Over the budget the oldest bases go: a later delta against one goes
	// unresolved, which only leaves an answer Unknown.
	for p.retained+len(body) > maxRetainedBodies && len(p.order) > 0 {
		old := p.bases[p.order[0]]
		p.retained -= len(old.body)
		delete(p.byHash, old.id)
		delete(p.bases, p.order[0])
		p.order = p.order[1:]
	}
	if len(body) <= maxRetainedBodies {
		p.bases[offset] = base{typ: typ, body: append([]byte(nil), body...), id: id}
		p.byHash[id] = offset
		p.order = append(p.order, offset)
		p.retained += len(body)
	}
	return nil
}

// resolvePending reads the deltas of commits and tags from the spool.
func (p *packScan) resolvePending() error {
	if len(p.pending) == 0 {
		return nil
	}
	s := packfile.NewScanner(p.spool)
	for _, off := range p.pending {
		body, err := blobAt(s, off, 0)
		if err != nil {
			return fmt.Errorf("error resolving a delta: %w", err)
		}
		if err := p.add(off, p.bases[off].typ, body); err != nil {
			return err
		}
	}
	return nil
}

// base is a commit or tag kept as a possible delta base.
type base struct {
	typ  plumbing.ObjectType
	body []byte
	id   plumbing.Hash
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
