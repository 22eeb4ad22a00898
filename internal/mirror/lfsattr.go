package mirror

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/idxfile"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
)

// lfsNeeds tells which of the tips need which missing pointer blobs: for
// each tip, how many of missing are reachable from it through the objects
// of the spooled pack (what the target does not have yet). It runs only
// when some LFS objects could not be copied, so that each ref's report
// (and, with LFSRequired, whether it is updated) is exact: it indexes the
// spooled pack, as git index-pack would, and walks commits and trees in it.
func lfsNeeds(spool *os.File, tips []plumbing.Hash, missing map[plumbing.Hash]bool) (map[plumbing.Hash]int, error) {
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("error rereading the pack: %w", err)
	}
	w := new(idxfile.Writer)
	parser, err := packfile.NewParser(packfile.NewScanner(spool), w)
	if err != nil {
		return nil, fmt.Errorf("error indexing the pack: %w", err)
	}
	if _, err := parser.Parse(); err != nil {
		return nil, fmt.Errorf("error indexing the pack: %w", err)
	}
	idx, err := w.Index()
	if err != nil {
		return nil, fmt.Errorf("error indexing the pack: %w", err)
	}
	fs := osfs.New(filepath.Dir(spool.Name()))
	file, err := fs.Open(filepath.Base(spool.Name()))
	if err != nil {
		return nil, fmt.Errorf("error rereading the pack: %w", err)
	}
	pf := packfile.NewPackfile(idx, fs, file, 0)
	defer pf.Close()

	wk := &needWalk{pf: pf, missing: missing, trees: map[plumbing.Hash][]plumbing.Hash{}, commits: map[plumbing.Hash]commitLinks{}}
	out := make(map[plumbing.Hash]int, len(tips))
	for _, tip := range tips {
		n, err := wk.count(tip)
		if err != nil {
			return nil, err
		}
		out[tip] = n
	}
	return out, nil
}

type commitLinks struct {
	tree    plumbing.Hash
	parents []plumbing.Hash
	inPack  bool
}

type needWalk struct {
	pf      *packfile.Packfile
	missing map[plumbing.Hash]bool
	trees   map[plumbing.Hash][]plumbing.Hash // tree → missing blobs below it
	commits map[plumbing.Hash]commitLinks
}

// count walks the commits from tip that are in the pack and counts the
// distinct missing blobs their trees reach.
func (w *needWalk) count(tip plumbing.Hash) (int, error) {
	found := map[plumbing.Hash]bool{}
	seen := map[plumbing.Hash]bool{}
	stack := []plumbing.Hash{tip}
	for len(stack) > 0 {
		h := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[h] {
			continue
		}
		seen[h] = true
		c, err := w.commit(h)
		if err != nil {
			return 0, err
		}
		if !c.inPack {
			continue // the target has it, and what it reaches
		}
		blobs, err := w.tree(c.tree)
		if err != nil {
			return 0, err
		}
		for _, b := range blobs {
			found[b] = true
		}
		stack = append(stack, c.parents...)
	}
	return len(found), nil
}

// commit reads a commit (or an annotated tag, followed to what it names)
// from the pack.
func (w *needWalk) commit(h plumbing.Hash) (commitLinks, error) {
	if c, ok := w.commits[h]; ok {
		return c, nil
	}
	var c commitLinks
	o, err := w.pf.Get(h)
	switch {
	case errors.Is(err, plumbing.ErrObjectNotFound):
	case err != nil:
		return c, fmt.Errorf("error reading %s from the pack: %w", h, err)
	case o.Type() == plumbing.TagObject || o.Type() == plumbing.CommitObject:
		body, err := objectBody(o)
		if err != nil {
			return c, err
		}
		c.inPack = true
		if o.Type() == plumbing.TagObject {
			c.parents = objectLinks(plumbing.TagObject, body)
		} else {
			c.tree, c.parents = commitTree(body), objectLinks(plumbing.CommitObject, body)
		}
	}
	w.commits[h] = c
	return c, nil
}

// tree returns the missing blobs reachable from a tree through trees in
// the pack.
func (w *needWalk) tree(h plumbing.Hash) ([]plumbing.Hash, error) {
	if h.IsZero() {
		return nil, nil // an annotated tag's own entry: its target is walked
	}
	if b, ok := w.trees[h]; ok {
		return b, nil
	}
	w.trees[h] = nil // cycles cannot happen in Git, but a hostile pack could try
	o, err := w.pf.Get(h)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("error reading tree %s from the pack: %w", h, err)
	}
	if o.Type() != plumbing.TreeObject {
		return nil, nil
	}
	body, err := objectBody(o)
	if err != nil {
		return nil, err
	}
	var out []plumbing.Hash
	for len(body) > 0 {
		// An entry: "<octal mode> <name>\0" and a 20-byte id.
		sp := bytes.IndexByte(body, ' ')
		nul := bytes.IndexByte(body, 0)
		if sp <= 0 || nul < sp || len(body) < nul+1+20 {
			return nil, fmt.Errorf("tree %s is malformed", h)
		}
		mode := string(body[:sp])
		var id plumbing.Hash
		copy(id[:], body[nul+1:nul+21])
		body = body[nul+21:]
		switch {
		case mode == "40000":
			sub, err := w.tree(id)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
		case mode == "160000": // a submodule's commit
		case w.missing[id]:
			out = append(out, id)
		}
	}
	w.trees[h] = out
	return out, nil
}

// objectBody reads an object of the pack into memory, within the limit
// the scan keeps to for commits and tags.
func objectBody(o plumbing.EncodedObject) ([]byte, error) {
	if o.Size() > maxObjectSize {
		return nil, fmt.Errorf("object %s is too large to read (%d bytes)", o.Hash(), o.Size())
	}
	r, err := o.Reader()
	if err != nil {
		return nil, fmt.Errorf("error reading %s from the pack: %w", o.Hash(), err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("error reading %s from the pack: %w", o.Hash(), err)
	}
	return b, nil
}

// commitTree reads a commit's tree from its first line.
func commitTree(body []byte) plumbing.Hash {
	line, _, _ := bytes.Cut(body, []byte("\n"))
	if hex, ok := bytes.CutPrefix(line, []byte("tree ")); ok && len(hex) == 40 {
		return plumbing.NewHash(string(hex))
	}
	return plumbing.ZeroHash
}
