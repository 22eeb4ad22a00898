package mirror

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

// TestScanFilteredPack: a pack without trees and blobs (what a fetch with
// commitFilter brings) gives the graph exactly the nodes and links the full
// pack gives, so answers from it are as exact.
func TestScanFilteredPack(t *testing.T) {
	t.Parallel()
	_, run := gitRepo(t)
	full := run("", "pack-objects", "--all", "--revs", "--stdout", "--delta-base-offset", "--window=50", "--depth=50", "-q")
	commits := run("", "pack-objects", "--all", "--revs", "--stdout", "--delta-base-offset", "--window=50", "--depth=50", "-q", "--filter="+commitFilter)
	if len(commits) >= len(full) {
		t.Fatalf("set-up: the filtered pack (%d bytes) is not smaller than the full one (%d)", len(commits), len(full))
	}
	if n := deltaCommits(run("", "verify-pack", "-v", writeTemp(t, commits))); n == 0 {
		t.Fatal("set-up: the filtered pack stores no commit as a delta; the scanner's delta path is not exercised")
	}
	gFull, gCommits := NewGraph(), NewGraph()
	if err := scanPack(strings.NewReader(full), gFull); err != nil {
		t.Fatal(err)
	}
	if err := scanPack(strings.NewReader(commits), gCommits); err != nil {
		t.Fatal(err)
	}
	if gCommits.Len() == 0 || !maps.EqualFunc(gFull.edges, gCommits.edges, slices.Equal[[]plumbing.Hash]) {
		t.Errorf("the filtered pack's graph (%d nodes) differs from the full pack's (%d nodes)", gCommits.Len(), gFull.Len())
	}
	// The same scan keeping no bodies, its deltas read again from a spool.
	spool, err := os.CreateTemp(t.TempDir(), "commits-*.pack")
	if err != nil {
		t.Fatal(err)
	}
	defer spool.Close()
	gSpooled := NewGraph()
	if err := scanPackSpooled(strings.NewReader(commits), gSpooled, spool); err != nil {
		t.Fatal(err)
	}
	if !maps.EqualFunc(gFull.edges, gSpooled.edges, slices.Equal[[]plumbing.Hash]) {
		t.Errorf("the spooled scan's graph (%d nodes) differs from the full pack's (%d nodes)", gSpooled.Len(), gFull.Len())
	}
}

func TestPackCount(t *testing.T) {
	t.Parallel()
	header := func(n byte) string { return "PACK\x00\x00\x00\x02\x00\x00\x07" + string([]byte{n}) }
	broken := errors.New("connection reset")
	for name, tc := range map[string]struct {
		in        io.Reader
		wantCount uint32
		wantOK    bool
		wantErr   error // what reading the returned stream ends with
	}{
		"pack":              {in: strings.NewReader(header(0xd0) + "rest"), wantCount: 0x7d0, wantOK: true, wantErr: io.EOF},
		"header only":       {in: strings.NewReader(header(1)), wantCount: 0x701, wantOK: true, wantErr: io.EOF},
		"short":             {in: strings.NewReader("PACK\x00"), wantErr: io.EOF},
		"not a pack":        {in: strings.NewReader("<html>not a pack at all"), wantErr: io.EOF},
		"broken in header":  {in: io.MultiReader(strings.NewReader("PACK"), errReader{broken}), wantErr: broken},
		"broken after head": {in: io.MultiReader(strings.NewReader(header(3)), errReader{broken}), wantCount: 0x703, wantOK: true, wantErr: broken},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var orig bytes.Buffer
			r, count, ok := packCount(io.TeeReader(tc.in, &orig))
			if count != tc.wantCount || ok != tc.wantOK {
				t.Errorf("count %#x, ok %v; want %#x, %v", count, ok, tc.wantCount, tc.wantOK)
			}
			got, err := io.ReadAll(r)
			if !errors.Is(err, tc.wantErr) && !(tc.wantErr == io.EOF && err == nil) {
				t.Errorf("reading on: %v, want %v", err, tc.wantErr)
			}
			if !bytes.Equal(got, orig.Bytes()) {
				t.Errorf("read %q again, want %q (everything the source gave)", got, orig.Bytes())
			}
		})
	}
}

// TestSpoolFollows: the spool's reader gets every byte in order while the
// copy still runs, waits where the copy has not got yet, and ends with the
// source's error when the source breaks.
func TestSpoolFollows(t *testing.T) {
	t.Parallel()
	for name, breakWith := range map[string]error{"complete": nil, "source breaks": errors.New("stream cut")} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			pr, pw := io.Pipe()
			sp, err := startSpool(t.TempDir(), pr, pr)
			if err != nil {
				t.Fatal(err)
			}
			defer sp.close()
			r := sp.reader()
			var want []byte
			for i := range 50 {
				chunk := bytes.Repeat([]byte{byte('a' + i%26)}, 1000+i*97)
				want = append(want, chunk...)
				if _, err := pw.Write(chunk); err != nil {
					t.Fatal(err)
				}
				// The reader catches up with the copy before the next write.
				got := make([]byte, len(chunk))
				if _, err := io.ReadFull(r, got); err != nil {
					t.Fatalf("chunk %d: %v", i, err)
				}
				if !bytes.Equal(got, chunk) {
					t.Fatalf("chunk %d differs", i)
				}
			}
			pw.CloseWithError(breakWith)
			rest, err := io.ReadAll(r)
			if len(rest) != 0 {
				t.Errorf("%d bytes after the end", len(rest))
			}
			if !errors.Is(err, breakWith) {
				t.Errorf("the reader ended with %v, want %v", err, breakWith)
			}
			all, err := io.ReadAll(sp.reader())
			if !bytes.Equal(all, want) || !errors.Is(err, breakWith) {
				t.Errorf("a second reader got %d bytes (%v), want %d", len(all), err, len(want))
			}
		})
	}
}

func TestGraphFrontier(t *testing.T) {
	t.Parallel()
	h := func(s string) plumbing.Hash { return plumbing.ComputeHash(plumbing.BlobObject, []byte(s)) }
	c1, c2, c3, side, tag, unknown := h("c1"), h("c2"), h("c3"), h("side"), h("tag"), h("unknown")
	g := NewGraph()
	g.Add(c1, nil)
	g.Add(c2, []plumbing.Hash{c1})
	g.Add(c3, []plumbing.Hash{c2})
	g.Add(side, []plumbing.Hash{c1})
	g.Add(tag, []plumbing.Hash{c2}) // an annotated tag of c2
	for name, tc := range map[string]struct{ tips, want []plumbing.Hash }{
		"one branch":                {tips: []plumbing.Hash{c3}, want: []plumbing.Hash{c3}},
		"tips behind a branch go":   {tips: []plumbing.Hash{c1, c3, c2}, want: []plumbing.Hash{c3}},
		"two branches stay":         {tips: []plumbing.Hash{c3, side, c1}, want: []plumbing.Hash{c3, side}},
		"a tag object stays":        {tips: []plumbing.Hash{tag, c3}, want: []plumbing.Hash{tag, c3}},
		"behind a tag goes":         {tips: []plumbing.Hash{tag, c1}, want: []plumbing.Hash{tag}},
		"an unknown tip stays":      {tips: []plumbing.Hash{unknown, c2, c1}, want: []plumbing.Hash{unknown, c2}},
		"a tip twice stays (twice)": {tips: []plumbing.Hash{c3, c3}, want: []plumbing.Hash{c3, c3}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := g.Frontier(tc.tips); !slices.Equal(got, tc.want) {
				t.Errorf("Frontier = %v, want %v", got, tc.want)
			}
		})
	}
}
