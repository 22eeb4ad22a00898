package mirror

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"os"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
)

// commitFilter is the object filter of a fetch that only feeds the commit
// graph: partial clone's "tree:0" leaves out every tree and blob, so the
// pack holds the commits and annotated tags alone (about 3% of a typical
// pack's bytes), which the scanner reads without inflating anything else.
const commitFilter = "tree:0"

// feedMinObjects is the size of pack, in objects, from which the graph is
// fed by a commits-only fetch of its own rather than by scanning the relayed
// pack. Scanning inflates every object (blobs included) on the cores the
// servers need too: about 4 s of CPU for nginx's 73,000 objects, against
// 0.1 s for its 9,900 commits fetched alone. Below it the scan costs less
// than the extra request.
const feedMinObjects = 2000

// packCount reads a pack's object count from its 12-byte header and returns
// a reader that yields the whole stream again, header included. ok is false
// when the stream does not start with a pack header; what follows (the scan
// or the target) then reports what is wrong with it.
func packCount(pack io.Reader) (r io.Reader, count uint32, ok bool) {
	var head [12]byte
	n, err := io.ReadFull(pack, head[:])
	rest := pack
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = io.EOF
		}
		rest = errReader{err}
	}
	r = io.MultiReader(bytes.NewReader(head[:n]), rest)
	if err != nil || !bytes.HasPrefix(head[:], []byte("PACK")) {
		return r, 0, false
	}
	return r, binary.BigEndian.Uint32(head[8:]), true
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// feedsApart reports whether the graph should be fed by a fetch of its own
// for a relayed pack of count objects: the pack is big and the source can
// leave trees and blobs out. Call it after a fetch, when the leg knows the
// source's capabilities.
func (t *transfer) feedsApart(count uint32, ok bool) bool {
	return ok && count >= feedMinObjects && t.adv.src.Capabilities.Supports(capability.Filter)
}

// feed is a commits-only fetch running beside the relay, adding what it
// reads to the sync's graph.
type feed struct {
	done   chan struct{}
	cancel context.CancelFunc
	bad    error // a *packViolation, once done
}

// startFeed fetches, in the background, the commits and annotated tags
// reachable from wants but not from haves (the relayed pack's, without its
// trees and blobs) and adds them to the graph. A failure other than a pack
// that breaks a limit is logged, not returned: it only leaves ancestry
// answers Unknown, which the rules treat safely.
func (t *transfer) startFeed(ctx context.Context, wants, haves []plumbing.Hash) *feed {
	ctx, cancel := context.WithCancel(ctx)
	f := &feed{done: make(chan struct{}), cancel: cancel}
	caps, g, log, dir := t.adv.src.Capabilities, t.s.graph, t.s.log, t.s.cacheDir
	go func() {
		defer close(f.done)
		pack, _, err := t.src.fetch(ctx, caps, wants, haves, false, commitFilter)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("could not fetch the commits alone; ancestry may be unknown", slog.Any("error", err))
			}
			return
		}
		defer pack.Close()
		spool, err := os.CreateTemp(dir, "commits-*.pack")
		if err != nil {
			log.Warn("could not read the commits; ancestry may be unknown", slog.Any("error", err))
			return
		}
		defer func() { spool.Close(); os.Remove(spool.Name()) }()
		before := g.Len()
		if err := scanPackSpooled(pack, g, spool); err != nil {
			if v := (*packViolation)(nil); errors.As(err, &v) {
				f.bad = err
				return
			}
			if ctx.Err() == nil {
				log.Warn("could not read commits from the pack; ancestry may be unknown", slog.Any("error", err))
			}
			return
		}
		log.Debug("fed the commit graph from a commits-only fetch", slog.Int("added", g.Len()-before))
	}()
	return f
}

// wait returns when the feed is done, with its *packViolation if the
// source sent a pack it should not have.
func (f *feed) wait() error {
	<-f.done
	return f.bad
}

// stop ends the feed early and waits for it.
func (f *feed) stop() {
	f.cancel()
	<-f.done
}

// fedPack is a relayed pack whose commits a feed reads apart. At the end of
// the pack it waits for the feed, so that a source that sent a commits pack
// breaking a limit fails the push instead of completing it; the feed is
// faster than the relay, so the wait costs nothing in practice.
type fedPack struct {
	r    io.Reader
	feed *feed
}

func (p *fedPack) Read(b []byte) (int, error) {
	select {
	case <-p.feed.done:
		if p.feed.bad != nil {
			return 0, p.feed.bad
		}
	default:
	}
	n, err := p.r.Read(b)
	if err == io.EOF {
		if bad := p.feed.wait(); bad != nil {
			return n, bad
		}
	}
	return n, err
}
