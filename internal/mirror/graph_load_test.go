package mirror

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

// TestGraphLoadCutAnywhere: a cache file cut at any byte (a crash mid-write)
// loads the whole records before the cut and nothing of the rest.
func TestGraphLoadCutAnywhere(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	full := filepath.Join(dir, "graph")
	g := NewGraph()
	g.Add(h("a"), []plumbing.Hash{h("b"), h("c")}) // 61 bytes
	g.Add(h("b"), nil)                             // 21 bytes
	g.Add(h("c"), []plumbing.Hash{h("b")})         // 41 bytes
	if err := g.Save(full); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(full)
	if err != nil {
		t.Fatal(err)
	}
	for cut := 0; cut <= len(data); cut++ {
		want := 0
		for _, end := range []int{61, 82, 123} {
			if cut >= end {
				want++
			}
		}
		p := filepath.Join(dir, "cut")
		if err := os.WriteFile(p, data[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		l := NewGraph()
		if err := l.Load(p); err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		if l.Len() != want {
			t.Errorf("cut at %d: loaded %d nodes, want %d", cut, l.Len(), want)
		}
		if want == 3 && l.Reaches(h("b"), []plumbing.Hash{h("c")}) != Yes {
			t.Errorf("cut at %d: c's parent b not found", cut)
		}
	}
}

// FuzzGraphLoad: whatever the cache file holds, Load neither panics nor
// makes up edges: every node loaded has as many edges as its record says.
func FuzzGraphLoad(f *testing.F) {
	g := NewGraph()
	g.Add(h("a"), []plumbing.Hash{h("b"), h("c")})
	g.Add(h("b"), nil)
	p := filepath.Join(f.TempDir(), "seed")
	if err := g.Save(p); err != nil {
		f.Fatal(err)
	}
	seed, err := os.ReadFile(p)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte{})
	f.Add(append(seed, 0xff))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := os.CreateTemp(dir, "graph-*")
		if err != nil {
			t.Fatal(err)
		}
		defer os.Remove(p.Name())
		if _, err := p.Write(data); err != nil {
			t.Fatal(err)
		}
		p.Close()
		l := NewGraph()
		if err := l.Load(p.Name()); err != nil {
			t.Fatal(err)
		}
		n, off := 0, 0
		for off+21 <= len(data) && off+21+int(data[off+20])*20 <= len(data) {
			off += 21 + int(data[off+20])*20
			n++
		}
		if l.Len() > n {
			t.Fatalf("loaded %d nodes from %d whole records", l.Len(), n)
		}
	})
}

// TestGraphLoadAfterAdd: nodes added before the cache is read (a hinted
// sync's prefetched pack) stay, the file's join them, and Save then
// appends only the added nodes the file did not have; the "not
// reachable" answers likewise.
func TestGraphLoadAfterAdd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path, notPath := filepath.Join(dir, "graph"), filepath.Join(dir, "graph.not")
	cached := NewGraph()
	cached.Add(h("b"), []plumbing.Hash{h("a")})
	cached.Add(h("a"), nil)
	cached.AddNot(h("d"), h("a"))
	if err := cached.Save(path); err != nil {
		t.Fatal(err)
	}
	if err := cached.saveNot(notPath); err != nil {
		t.Fatal(err)
	}

	g := NewGraph()
	g.Add(h("c"), []plumbing.Hash{h("b")}) // new
	g.Add(h("b"), []plumbing.Hash{h("a")}) // also in the file
	g.AddNot(h("d"), h("a"))               // also in the file
	g.AddNot(h("e"), h("a"))               // new
	if got := g.Reaches(h("f"), []plumbing.Hash{h("c")}); got != Unknown {
		t.Fatalf("before the load: f from c = %v, want unknown (a is not known yet)", got)
	}
	if err := g.Load(path); err != nil {
		t.Fatal(err)
	}
	if err := g.loadNot(notPath); err != nil {
		t.Fatal(err)
	}
	if g.Len() != 3 {
		t.Errorf("%d nodes after the load, want 3", g.Len())
	}
	if got := g.Reaches(h("f"), []plumbing.Hash{h("c")}); got != No {
		t.Errorf("after the load: f from c = %v, want no", got)
	}
	if got := g.Reaches(h("d"), []plumbing.Hash{h("a")}); got != No {
		t.Errorf("d from a = %v, want no (cached)", got)
	}
	if err := g.Save(path); err != nil {
		t.Fatal(err)
	}
	if err := g.saveNot(notPath); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]int64{path: 41 + 21 + 41, notPath: 2 * 40} {
		fi, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() != want {
			t.Errorf("%s: %d bytes after the save, want %d (b, a and the new c; two answers)", filepath.Base(file), fi.Size(), want)
		}
	}
}
