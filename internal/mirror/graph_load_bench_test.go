package mirror

import (
	"crypto/sha1"
	"encoding/binary"
	"path/filepath"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

// BenchmarkGraphLoad reads a commit graph cache of 10,000 commits (a
// linear history with a merge every 50), as an incremental sync of a
// repository of that size does before it asks the source for a pack.
func BenchmarkGraphLoad(b *testing.B) {
	path := filepath.Join(b.TempDir(), "graph")
	g := NewGraph()
	id := func(i int) plumbing.Hash {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(i))
		return plumbing.Hash(sha1.Sum(n[:]))
	}
	for i := 1; i < 10000; i++ {
		next := []plumbing.Hash{id(i - 1)}
		if i%50 == 0 && i > 100 {
			next = append(next, id(i-100))
		}
		g.Add(id(i), next)
	}
	if err := g.Save(path); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		l := NewGraph()
		if err := l.Load(path); err != nil {
			b.Fatal(err)
		}
		if l.Len() != 9999 {
			b.Fatalf("loaded %d nodes, want 9999", l.Len())
		}
	}
}
