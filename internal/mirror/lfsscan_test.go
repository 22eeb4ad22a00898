package mirror

import (
	"bytes"
	"compress/zlib"
	"crypto/sha1"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/lfs"
	"github.com/go-git/go-git/v5/plumbing"
)

// packBuilder writes a pack by hand, so that a test can hold the deltas
// git's pack-objects never makes for pointers.
type packBuilder struct {
	buf     bytes.Buffer
	count   uint32
	offsets []int64
}

func newPackBuilder() *packBuilder {
	b := &packBuilder{}
	b.buf.WriteString("PACK")
	_ = binary.Write(&b.buf, binary.BigEndian, uint32(2))
	_ = binary.Write(&b.buf, binary.BigEndian, uint32(0)) // count, set in bytes()
	return b
}

func (b *packBuilder) header(typ plumbing.ObjectType, size int) {
	c := byte(typ)<<4 | byte(size&0x0f)
	size >>= 4
	for size > 0 {
		b.buf.WriteByte(c | 0x80)
		c = byte(size & 0x7f)
		size >>= 7
	}
	b.buf.WriteByte(c)
}

func (b *packBuilder) deflate(data []byte) {
	z := zlib.NewWriter(&b.buf)
	_, _ = z.Write(data)
	_ = z.Close()
}

// whole adds an undeltified object and returns its index.
func (b *packBuilder) whole(typ plumbing.ObjectType, data []byte) int {
	b.offsets = append(b.offsets, int64(b.buf.Len()))
	b.count++
	b.header(typ, len(data))
	b.deflate(data)
	return len(b.offsets) - 1
}

// ofsDelta adds an offset delta against object base.
func (b *packBuilder) ofsDelta(base int, delta []byte) int {
	off := int64(b.buf.Len())
	b.offsets = append(b.offsets, off)
	b.count++
	b.header(plumbing.OFSDeltaObject, len(delta))
	// Git's offset encoding: big-endian 7-bit groups, each but the last
	// with one added.
	rel := off - b.offsets[base]
	enc := []byte{byte(rel & 0x7f)}
	for rel >>= 7; rel > 0; rel >>= 7 {
		rel--
		enc = append([]byte{byte(0x80 | rel&0x7f)}, enc...)
	}
	b.buf.Write(enc)
	b.deflate(delta)
	return len(b.offsets) - 1
}

// refDelta adds a delta against an object by id.
func (b *packBuilder) refDelta(base plumbing.Hash, delta []byte) {
	b.offsets = append(b.offsets, int64(b.buf.Len()))
	b.count++
	b.header(plumbing.REFDeltaObject, len(delta))
	b.buf.Write(base[:])
	b.deflate(delta)
}

func (b *packBuilder) bytes() []byte {
	out := bytes.Clone(b.buf.Bytes())
	binary.BigEndian.PutUint32(out[8:12], b.count)
	sum := sha1.Sum(out)
	return append(out, sum[:]...)
}

// delta makes a delta that copies base[:keep] and inserts the rest of
// target literally.
func delta(base, target []byte, keep int) []byte {
	var d []byte
	d = appendVarint(d, len(base))
	d = appendVarint(d, len(target))
	if keep > 0 {
		d = append(d, 0x80|0x10, byte(keep)) // copy: offset 0, one size byte
	}
	for rest := target[keep:]; len(rest) > 0; {
		n := min(len(rest), 127)
		d = append(d, byte(n))
		d = append(d, rest[:n]...)
		rest = rest[n:]
	}
	return d
}

func appendVarint(b []byte, n int) []byte {
	for n >= 0x80 {
		b = append(b, byte(n)|0x80)
		n >>= 7
	}
	return append(b, byte(n))
}

func TestLFSScanFindsPointersAlsoInDeltas(t *testing.T) {
	t.Parallel()
	ptr := func(c string, size int64) lfs.Pointer { return lfs.Pointer{OID: strings.Repeat(c, 64), Size: size} }
	p1, p2, p3, p4 := ptr("1", 100), ptr("2", 200), ptr("3", 300), ptr("4", 400)
	plain := []byte(strings.Repeat("an ordinary small file\n", 10))

	b := newPackBuilder()
	base := b.whole(plumbing.BlobObject, p1.Encode())
	b.ofsDelta(base, delta(p1.Encode(), p2.Encode(), 54)) // against a pointer: resolved while streaming
	other := b.whole(plumbing.BlobObject, plain)
	b.ofsDelta(other, delta(plain, p3.Encode(), 0)) // against another blob: resolved from the spool
	b.whole(plumbing.BlobObject, []byte(strings.Repeat("x", 2000)))
	b.whole(plumbing.BlobObject, append([]byte("version https://git-lfs.github.com/spec/v1\noid sha256:"), "broken\n"...))
	b.refDelta(plumbing.NewHash(strings.Repeat("ab", 20)), delta(plain, p4.Encode(), 0)) // base outside the pack
	id1 := plumbing.ComputeHash(plumbing.BlobObject, p1.Encode())
	tree := append([]byte("100644 p1.bin\x00"), id1[:]...)
	b.whole(plumbing.TreeObject, tree)
	pack := b.bytes()

	l := newLFSScan()
	if err := scanPackLFS(bytes.NewReader(pack), NewGraph(), l); err != nil {
		t.Fatalf("scan: %v", err)
	}
	if len(l.pending) != 1 {
		t.Errorf("pending = %v, want the delta against the ordinary blob", l.pending)
	}
	if err := l.finish(bytes.NewReader(pack)); err != nil || l.err != nil {
		t.Fatalf("finish: %v, %v", err, l.err)
	}
	got := l.found()
	want := []lfs.Pointer{p1, p2, p3}
	if len(got) != len(want) {
		t.Fatalf("found %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("found[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	if l.unknown != 1 {
		t.Errorf("unknown = %d, want 1 (the delta against an object outside the pack)", l.unknown)
	}
	if id := plumbing.ComputeHash(plumbing.BlobObject, p2.Encode()); l.pointers[id] != p2 {
		t.Errorf("pointer blob id of p2 not recorded: %v", l.pointers)
	}
}

// TestLFSScanBoundsDeltaChains: a small delta the scan must resolve from the
// spool may sit on a base delta that expands far beyond what its bytes
// suggest (each 0x80 copies 64 KiB). The chain is refused by its claimed
// size, before anything that large is made.
func TestLFSScanBoundsDeltaChains(t *testing.T) {
	t.Parallel()
	zeros := make([]byte, 64<<10)
	copies := maxObjectSize/len(zeros) + 8
	var bomb []byte
	bomb = appendVarint(bomb, len(zeros))
	bomb = appendVarint(bomb, copies*len(zeros))
	bomb = append(bomb, bytes.Repeat([]byte{0x80}, copies)...) // copy 64 KiB from offset 0

	p := lfs.Pointer{OID: strings.Repeat("5", 64), Size: 500}
	var tiny []byte // on top of the bomb: a pointer, inserted literally
	tiny = appendVarint(tiny, copies*len(zeros))
	tiny = appendVarint(tiny, len(p.Encode()))
	for rest := p.Encode(); len(rest) > 0; {
		n := min(len(rest), 127)
		tiny = append(append(tiny, byte(n)), rest[:n]...)
		rest = rest[n:]
	}

	b := newPackBuilder()
	base := b.whole(plumbing.BlobObject, zeros)
	b.ofsDelta(b.ofsDelta(base, bomb), tiny)
	pack := b.bytes()
	l := newLFSScan()
	if err := scanPackLFS(bytes.NewReader(pack), NewGraph(), l); err != nil {
		t.Fatalf("scan: %v", err)
	}
	if err := l.finish(bytes.NewReader(pack)); err != nil {
		t.Fatalf("finish: %v", err)
	}
	if l.err == nil || !strings.Contains(l.err.Error(), "more than the") {
		t.Fatalf("scan error %v, want the delta chain refused; found %v", l.err, l.found())
	}
}
