package mirror

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
)

// prefetch is the fetch of a hinted sync (Options.Hints), started at the
// same time as the listings instead of after them. A push event says which
// commit a ref now has; the target's tips are, most likely, what the last
// sync wrote there (the last-synced state). So the pack that carries the
// new commits can be asked for at once, with the hinted commits as wants
// and what those refs had at the last sync as haves (every last-synced tip
// for a ref new since), while both sides are listed. It is
// spooled to the cache directory and its commits read into the graph, as
// prepare does with a fetched pack. It is used only if the listings agree
// with both guesses: the attempt wants exactly the hinted commits, and
// every have is still a tip of the target (so the target has everything
// the pack leaves out, thin-pack bases included). Otherwise it is dropped
// and the attempt fetches as it would have. The hints never decide what is
// written: the listings and the rules do, as without them.
//
// For one new commit this takes the listing off the critical path: the
// fetch ends about when the listings do, and the push follows (issue 16).
type prefetch struct {
	wants, haves []plumbing.Hash
	cancel       context.CancelFunc
	done         chan struct{}
	spool        *os.File
	size         int64
	err          error
}

// startPrefetch starts the prefetch of a hinted sync, or returns nil when
// there is nothing to guess from or it could not be used: no hint for a
// commit the state does not already have, no cache directory (the spool,
// the graph and the state live there), no remembered capabilities of the
// source's upload-pack and the target's receive-pack, a target still to
// be created or one that wants pushes with their length, LFS (its pack
// must be scanned for pointers before the push; prepare does that), a
// two-way sync, or a dry run.
func (s *syncer) startPrefetch(ctx context.Context) *prefetch {
	if len(s.opts.Hints) == 0 || s.cacheDir == "" || s.create != nil || s.opts.TwoWay || s.opts.DryRun ||
		s.lfsOn() || s.dst.needLength {
		return nil
	}
	srcCaps, dstCaps := s.caps.get(s.src, uploadPack), s.caps.get(s.dst, receivePack)
	if srcCaps == nil || dstCaps == nil {
		return nil
	}
	// The haves: what the hinted refs had at the last sync, which for a
	// push that moved them forward is all the pack needs to leave out;
	// for refs new since then, every last-synced tip.
	var wants, haves []plumbing.Hash
	for ref, id := range s.opts.Hints {
		if !s.scope.In(ref) || CheckRefName(ref) != nil || !plumbing.IsHash(id) {
			continue
		}
		h := plumbing.NewHash(id)
		if h.IsZero() || s.last[ref] == h || slices.Contains(wants, h) {
			continue
		}
		wants = append(wants, h)
		if old := s.last[ref]; !old.IsZero() && !slices.Contains(haves, old) {
			haves = append(haves, old)
		}
	}
	if len(wants) == 0 {
		return nil
	}
	if len(haves) == 0 {
		for _, h := range s.last {
			if !h.IsZero() && !slices.Contains(haves, h) {
				haves = append(haves, h)
			}
		}
	}
	if len(haves) == 0 {
		return nil // nothing synced yet: no better than waiting for the listings
	}
	slices.SortFunc(wants, func(a, b plumbing.Hash) int { return bytes.Compare(a[:], b[:]) })
	slices.SortFunc(haves, func(a, b plumbing.Hash) int { return bytes.Compare(a[:], b[:]) })
	ctx, cancel := context.WithCancel(ctx)
	p := &prefetch{wants: wants, haves: haves, cancel: cancel, done: make(chan struct{})}
	thin := !dstCaps.Supports(capNoThin)
	go func() {
		defer close(p.done)
		haves := p.haves // adopt checks them all: the frontier is only what is sent
		if len(haves) > frontierFrom {
			s.loadGraph()
			haves = s.graph.Frontier(haves)
		}
		// The pack's commits join the graph; the cache is read only if an
		// answer needs more than them (lazyAncestry).
		pack, err := s.prefetchPack(ctx, srcCaps, p.wants, haves, thin)
		if err != nil {
			p.err = err
			return
		}
		defer pack.Close()
		f, err := os.CreateTemp(s.cacheDir, "prefetch-*.pack")
		if err != nil {
			p.err = fmt.Errorf("error creating temporary pack file: %w", err)
			return
		}
		p.spool = f
		p.size, p.err = scanWhileCopying(f, pack, s.graph, nil, s.log)
	}()
	return p
}

// prefetchPack asks the source for the prefetch's pack in protocol
// version 2 (fetchV2: the server does not read every ref first), or in
// version 0 (preferV2 says when).
func (s *syncer) prefetchPack(ctx context.Context, caps *capability.List, wants, haves []plumbing.Hash, thin bool) (io.ReadCloser, error) {
	pack, _, err := preferV2(ctx, s, "fetch",
		func() (io.ReadCloser, error) { return s.src.fetchV2(ctx, wants, haves, thin) },
		func() (io.ReadCloser, error) {
			pack, _, err := s.src.fetch(ctx, caps, wants, haves, thin, "")
			return pack, err
		})
	return pack, err
}

// adopt gives the transfer the prefetched pack if the listings agree with
// the guesses it was asked with (see prefetch), and reports whether it did.
// wants are the commits this attempt must send. A pack not adopted is
// dropped at once, its fetch cancelled if it still runs.
func (t *transfer) adopt(p *prefetch, wants []plumbing.Hash) bool {
	if p == nil {
		return false
	}
	ok := len(wants) == len(p.wants)
	for _, w := range wants {
		ok = ok && slices.Contains(p.wants, w)
	}
	for _, h := range p.haves {
		ok = ok && t.inDst[h]
	}
	if !ok {
		t.s.log.Debug("hint not confirmed by the listings; fetching as usual")
		p.drop()
		return false
	}
	<-p.done
	if p.err != nil {
		t.s.log.Info("fetching the hinted commits failed; fetching as usual", slog.Any("error", p.err))
		p.drop()
		return false
	}
	t.spool, t.spoolSize = p.spool, p.size
	p.spool = nil
	t.s.log.Info("fetched the hinted commits beside the listings", slog.Int64("bytes", p.size))
	return true
}

// drop cancels the prefetch, waits for it and removes its spool. Safe on
// nil and more than once.
func (p *prefetch) drop() {
	if p == nil {
		return
	}
	p.cancel()
	<-p.done
	if p.spool != nil {
		name := p.spool.Name()
		p.spool.Close()
		os.Remove(name)
		p.spool = nil
	}
}
