package mirror

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/go-git/go-git/v5/plumbing"
)

// The "not reachable" answers are kept beside the graph file, as 40-byte
// records: the commit, then the tip it is not reachable from.

// loadNot reads answers saved by saveNot. A missing file holds none; a
// truncated last record (a crash mid-write) is ignored.
func (g *Graph) loadNot(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("error opening ancestry cache: %w", err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	g.mu.Lock()
	defer g.mu.Unlock()
	var k [2]plumbing.Hash
	for {
		if _, err := io.ReadFull(r, k[0][:]); err != nil {
			return nil
		}
		if _, err := io.ReadFull(r, k[1][:]); err != nil {
			return nil
		}
		if g.not[k] {
			// Found before the load (AddNot): already in the file.
			g.addedNot = slices.DeleteFunc(g.addedNot, func(a [2]plumbing.Hash) bool { return a == k })
		}
		g.not[k] = true
	}
}

// saveNot appends the answers found since the last load or save.
func (g *Graph) saveNot(path string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.addedNot) == 0 {
		return nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("error opening ancestry cache: %w", err)
	}
	w := bufio.NewWriter(f)
	for _, k := range g.addedNot {
		w.Write(k[0][:])
		w.Write(k[1][:])
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("error writing ancestry cache: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("error writing ancestry cache: %w", err)
	}
	g.addedNot = g.addedNot[:0]
	return nil
}
