package mirror

import (
	"bytes"
	"fmt"
	"io"
	"sort"

	"github.com/gitee-mirror/gitee-mirror/internal/lfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
)

// maxPointerDelta bounds a delta the LFS scan inflates to see whether it
// makes a pointer: a delta for an object under lfs.MaxPointerSize bytes
// is at most a few times that long.
const maxPointerDelta = 16 << 10

// lfsScan finds Git LFS pointer blobs in a pack as scanPack reads it, so
// that the objects a push needs are known from the same stream, without a
// walk over history. Pointers are small (under 1 KiB) and start with
// "version https://": only blobs that may be one are inflated into memory.
//
// Git's pack-objects stores pointers whole (a delta between two of them
// is larger than it allows, the oids being random), but another packer may
// not: a small delta against a pointer seen earlier is resolved in the
// scan, and one against any other blob is left for resolvePending, which
// reads the spooled pack again.
type lfsScan struct {
	pointers map[plumbing.Hash]lfs.Pointer // blob id → pointer
	bodies   map[int64][]byte              // pointer blobs by offset, as delta bases
	byHash   map[plumbing.Hash]int64       // pointer blobs, for REF_DELTA bases
	// roots records, for each object in pack order, the type of the
	// object at the root of its delta chain (offsets ascend, so a binary
	// search finds one): 9 bytes an object, not a map entry.
	offsets []int64
	roots   []plumbing.ObjectType
	// pending are offsets of small blob deltas whose base was not kept.
	pending []int64
	// unknown counts small deltas against a base the pack does not hold or
	// that could not be identified: they may hide a pointer.
	unknown int
	err     error // why the scan stopped early, if it did
	buf     bytes.Buffer
}

func newLFSScan() *lfsScan {
	return &lfsScan{pointers: map[plumbing.Hash]lfs.Pointer{}, bodies: map[int64][]byte{}, byHash: map[plumbing.Hash]int64{}}
}

func (l *lfsScan) root(offset int64) plumbing.ObjectType {
	i := sort.Search(len(l.offsets), func(i int) bool { return l.offsets[i] >= offset })
	if i < len(l.offsets) && l.offsets[i] == offset {
		return l.roots[i]
	}
	return plumbing.InvalidObject
}

// object reads one tree, blob or delta (not of a commit or tag) from s,
// whose header h has just been read, and records a pointer if it is one.
func (l *lfsScan) object(s *packfile.Scanner, h *packfile.ObjectHeader) error {
	root := h.Type
	var base []byte
	switch h.Type {
	case plumbing.OFSDeltaObject:
		root, base = l.root(h.OffsetReference), l.bodies[h.OffsetReference]
	case plumbing.REFDeltaObject:
		root = plumbing.InvalidObject
		if off, ok := l.byHash[h.Reference]; ok {
			root, base = plumbing.BlobObject, l.bodies[off]
		}
	}
	l.offsets = append(l.offsets, h.Offset)
	l.roots = append(l.roots, root)

	isDelta := h.Type == plumbing.OFSDeltaObject || h.Type == plumbing.REFDeltaObject
	switch {
	case h.Type == plumbing.BlobObject && h.Length < lfs.MaxPointerSize:
	case isDelta && (root == plumbing.BlobObject || root == plumbing.InvalidObject) && h.Length <= maxPointerDelta:
	default:
		_, _, err := s.NextObject(io.Discard)
		return err
	}
	l.buf.Reset()
	if _, _, err := s.NextObject(&l.buf); err != nil {
		return err
	}
	body := l.buf.Bytes()
	if isDelta {
		size, ok := deltaTargetSize(body)
		if !ok || size >= lfs.MaxPointerSize {
			return nil
		}
		switch {
		case base != nil:
			patched, err := packfile.PatchDelta(base, body)
			if err != nil {
				return fmt.Errorf("error resolving delta at offset %d: %w", h.Offset, err)
			}
			body = patched
		case root == plumbing.BlobObject && h.Type == plumbing.OFSDeltaObject:
			l.pending = append(l.pending, h.Offset)
			return nil
		default:
			l.unknown++
			return nil
		}
	}
	l.consider(h.Offset, body)
	return nil
}

// consider records body, a blob at offset, if it is a pointer.
func (l *lfsScan) consider(offset int64, body []byte) {
	if !lfs.MayBePointer(int64(len(body)), body) {
		return
	}
	p, err := lfs.ParsePointer(body)
	if err != nil {
		return
	}
	kept := append([]byte(nil), body...)
	id := plumbing.ComputeHash(plumbing.BlobObject, kept)
	l.pointers[id] = p
	l.bodies[offset] = kept
	l.byHash[id] = offset
}

// resolvePending reads the small blob deltas the scan could not resolve
// from pack (the spooled pack, seekable) and records the pointers among
// them.
func (l *lfsScan) resolvePending(pack io.ReadSeeker) error {
	if len(l.pending) == 0 {
		return nil
	}
	s := packfile.NewScanner(pack)
	for _, off := range l.pending {
		body, err := blobAt(s, off, 0)
		if err != nil {
			return err
		}
		l.consider(off, body)
	}
	l.pending = nil
	return nil
}

// blobAt reads the object at offset in a seekable pack, resolving offset
// deltas, within the limits a scan keeps to.
func blobAt(s *packfile.Scanner, offset int64, depth int) ([]byte, error) {
	if depth > 64 {
		return nil, fmt.Errorf("delta chain at offset %d is too long", offset)
	}
	h, err := s.SeekObjectHeader(offset)
	if err != nil {
		return nil, fmt.Errorf("error rereading the pack at offset %d: %w", offset, err)
	}
	if h.Length < 0 || h.Length > maxObjectSize {
		return nil, fmt.Errorf("object at offset %d is too large to resolve (%d bytes)", offset, h.Length)
	}
	var buf bytes.Buffer
	if _, _, err := s.NextObject(&buf); err != nil {
		return nil, fmt.Errorf("error rereading the pack at offset %d: %w", offset, err)
	}
	switch h.Type {
	case plumbing.OFSDeltaObject:
		// The result's size is the delta's claim: check it before a base
		// is read, and before PatchDelta makes it.
		if size, ok := deltaTargetSize(buf.Bytes()); !ok || size > maxObjectSize {
			return nil, fmt.Errorf("delta at offset %d would make %d bytes, more than the %d a scan resolves", offset, size, maxObjectSize)
		}
		base, err := blobAt(s, h.OffsetReference, depth+1)
		if err != nil {
			return nil, err
		}
		return packfile.PatchDelta(base, buf.Bytes())
	case plumbing.REFDeltaObject:
		return nil, fmt.Errorf("object at offset %d is a delta against an object by id", offset)
	}
	return buf.Bytes(), nil
}

// found returns the pointers seen, one per object id.
func (l *lfsScan) found() []lfs.Pointer {
	seen := map[string]bool{}
	var out []lfs.Pointer
	for _, p := range l.pointers {
		if !seen[p.OID] {
			seen[p.OID] = true
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].OID < out[j].OID })
	return out
}

// failed records why the scan stopped: the pointers it found may then be
// only some of those in the pack.
func (l *lfsScan) failed(err error) {
	if l != nil && l.err == nil {
		l.err = err
	}
}

// finish resolves what the streaming scan left for a second look at the
// spooled pack.
func (l *lfsScan) finish(spool io.ReadSeeker) error {
	if l == nil || l.err != nil {
		return nil
	}
	if err := l.resolvePending(spool); err != nil {
		l.err = err
	}
	return nil
}
