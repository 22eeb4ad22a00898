package mirror

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
)

// maxExactFetches bounds the extra fetches one attempt makes to settle
// ancestry questions the graph cannot; anything beyond stays Unknown, which
// the rules treat safely (nothing is overwritten or deleted).
const maxExactFetches = 16

// frontierFrom is the number of target tips from which the "have" lines
// are cut to those the graph does not show behind another (Graph.Frontier).
const frontierFrom = 16

// transfer moves objects from the source to the target for one attempt.
// When ancestry questions must be settled before the ref commands can be
// written, the pack is spooled to a temporary file while its commits are
// read into the graph; otherwise it is streamed straight from the source's
// upload-pack into the target's receive-pack.
type transfer struct {
	s        *syncer
	src, dst *remote // objects go from src to dst: the syncer's, or in a two-way sync's second leg the other way
	adv      sides
	// lazySrc and lazyDst: adv holds refs listed through the other service;
	// the capabilities of the one this leg uses are asked for when first needed.
	lazySrc, lazyDst bool
	remembered       bool // some capabilities came from capCache
	unpackFailed     bool // the target could not store a pack this leg sent
	answers          *answers
	haves            []plumbing.Hash
	inDst            map[plumbing.Hash]bool

	lfs       *lfsScan // pointers in the spooled pack, with LFS on
	follow    *spool   // a big pack being spooled while its commits came apart
	spool     *os.File
	spoolSize int64
	bytes     int64
	prefetch  *prefetch // a hinted sync's early fetch, adopted by prepare if it fits
}

// prepare fetches and spools the pack if questions remain that the graph
// cannot answer yet.
func (t *transfer) prepare(ctx context.Context, refs []Ref, asked []question) error {
	t.inDst = make(map[plumbing.Hash]bool, len(t.adv.dst.References))
	for _, h := range t.adv.dst.References {
		if !t.inDst[h] {
			t.inDst[h] = true
			t.haves = append(t.haves, h)
		}
	}
	var wants []plumbing.Hash
	seen := map[plumbing.Hash]bool{}
	for _, r := range refs {
		if !r.Source.IsZero() && r.Source != r.Target && !t.inDst[r.Source] && !seen[r.Source] {
			seen[r.Source] = true
			wants = append(wants, r.Source)
		}
	}
	if t.adopt(t.prefetch, wants) {
		return nil // spooled and read into the graph already
	}
	// The haves of a fetch of this transfer's own (here or in the push's
	// source): a walk of the whole graph, not needed when the prefetch fits.
	if len(t.haves) > frontierFrom {
		all := len(t.haves)
		t.haves = t.answers.full().Frontier(t.haves)
		t.s.log.Debug("fewer haves: the others are behind them", slog.Int("haves", len(t.haves)), slog.Int("tips", all))
	}
	open := false
	for _, q := range asked {
		if t.answers.Reaches(q.target, q.from) == Unknown {
			open = true
			break
		}
	}
	if !open && !t.s.lfsOn() && !t.dst.needLength {
		return nil
	}
	if len(wants) == 0 {
		return nil
	}
	// With LFS the pack is spooled and scanned for pointers; it must not
	// be thin, so that no pointer hides as a delta against a target object.
	pack, _, err := t.fetch(ctx, wants, t.haves, !t.s.lfsOn(), "")
	if err != nil {
		return err
	}
	r, count, ok := packCount(pack)
	if !t.s.lfsOn() && !t.dst.needLength && t.feedsApart(count, ok) {
		// A big pack: its commits come apart, and the pack goes to the
		// target as it arrives, unscanned.
		return t.prepareFed(ctx, r, pack, wants)
	}
	defer pack.Close()
	if t.s.lfsOn() {
		t.lfs = newLFSScan()
	}
	dir := t.s.cacheDir
	f, err := os.CreateTemp(dir, "relay-*.pack")
	if err != nil {
		return fmt.Errorf("error creating temporary pack file: %w", err)
	}
	t.spool = f
	n, err := scanWhileCopying(f, r, t.s.graph, t.lfs, t.s.log)
	if err != nil {
		return err
	}
	if err := t.lfs.finish(f); err != nil {
		return err
	}
	t.spoolSize = n
	t.s.log.Info("fetched pack to settle ancestry", slog.Int64("bytes", n), slog.Int("graph", t.s.graph.Len()))
	return nil
}

// prepareFed spools the pack (r, the stream from its header on; closing
// pack ends it) while a commits-only fetch of the same wants and haves
// answers the ancestry questions; the push can then start before the
// spool is complete.
func (t *transfer) prepareFed(ctx context.Context, r io.Reader, pack io.Closer, wants []plumbing.Hash) error {
	fd := t.startFeed(ctx, wants, t.haves)
	sp, err := startSpool(t.s.cacheDir, r, pack)
	if err != nil {
		fd.stop()
		pack.Close()
		return err
	}
	t.follow = sp
	if err := fd.wait(); err != nil {
		return err
	}
	t.s.log.Info("read the commits apart to settle ancestry", slog.Int("graph", t.s.graph.Len()))
	return nil
}

// startScan runs scanPack in the background on what is written to the
// returned pipe. wait closes the pipe, waits for the scan and returns its
// error if the pack broke a limit (a *packViolation, which also fails the
// pipe's writes at once). Any other scan failure is logged, not returned: it
// only leaves ancestry answers Unknown.
func startScan(g *Graph, l *lfsScan, log *slog.Logger) (pw *io.PipeWriter, wait func() error) {
	pr, pw := io.Pipe()
	done := make(chan struct{})
	var bad error
	go func() {
		defer close(done)
		if err := scanPackLFS(pr, g, l); err != nil {
			l.failed(err)
			var v *packViolation
			if errors.As(err, &v) {
				bad = err
				pr.CloseWithError(err)
				return
			}
			log.Warn("could not read commits from the pack; ancestry may be unknown", slog.Any("error", err))
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	return pw, func() error { pw.Close(); <-done; return bad }
}

// scanWhileCopying copies src to dst and feeds the same bytes to scanPack.
func scanWhileCopying(dst io.Writer, src io.Reader, g *Graph, l *lfsScan, log *slog.Logger) (int64, error) {
	pw, wait := startScan(g, l, log)
	n, err := io.Copy(io.MultiWriter(dst, pw), src)
	pw.CloseWithError(err)
	if bad := wait(); bad != nil {
		return n, bad
	}
	return n, err
}

// resolve settles questions the graph leaves Unknown with one exact fetch
// each: the source is asked for what the question's tips have that the
// questioned commit does not, which holds the path between them if any.
func (t *transfer) resolve(ctx context.Context, asked []question) error {
	fetches := 0
	for _, q := range asked {
		if t.answers.Reaches(q.target, q.from) != Unknown {
			continue
		}
		if fetches == maxExactFetches {
			t.s.log.Warn("too many unsettled ancestry questions; treating the rest as diverged")
			return nil
		}
		fetches++
		ans, err := t.exact(ctx, q)
		if err != nil {
			return err
		}
		t.answers.set(q, ans)
		if from := dedupe(q.from); ans == No && len(from) == 1 {
			t.s.graph.AddNot(q.target, from[0])
		}
	}
	return nil
}

func (t *transfer) exact(ctx context.Context, q question) (Answer, error) {
	wants := dedupe(q.from)
	if len(wants) == 0 {
		return No, nil
	}
	// Only commits matter here: without trees and blobs where the source
	// can leave them out.
	filter := ""
	if caps, err := t.srcCaps(ctx); err != nil {
		return Unknown, err
	} else if caps.Supports(capability.Filter) {
		filter = commitFilter
	}
	pack, acked, err := t.fetch(ctx, wants, []plumbing.Hash{q.target}, false, filter)
	if err != nil {
		return Unknown, err
	}
	defer pack.Close()
	if !acked {
		// The source does not have the commit at all.
		return No, nil
	}
	g := NewGraph()
	if err := scanPack(pack, g); err != nil {
		if ctx.Err() != nil {
			return Unknown, t.src.contextError(ctx)
		}
		if v := (*packViolation)(nil); errors.As(err, &v) {
			return Unknown, err
		}
		t.s.log.Warn("could not read commits from the pack", slog.Any("error", err))
		return Unknown, nil
	}
	for node, next := range g.edges {
		t.s.graph.Add(node, next)
	}
	return exactAnswer{g}.Reaches(q.target, q.from), nil
}

// packFor returns the pack to send with the commands of plan: the spooled
// one, a fresh stream from the source, or an empty pack when the target
// already has everything. size is -1 for a stream.
func (t *transfer) packFor(ctx context.Context, plan []Step) (io.Reader, int64, func(), error) {
	if t.follow != nil {
		return t.follow.reader(), -1, func() {}, nil
	}
	if t.spool != nil {
		if _, err := t.spool.Seek(0, io.SeekStart); err != nil {
			return nil, 0, nil, fmt.Errorf("error rereading temporary pack: %w", err)
		}
		return t.spool, t.spoolSize, func() {}, nil
	}
	var wants []plumbing.Hash
	seen := map[plumbing.Hash]bool{}
	for _, st := range plan {
		switch st.Action {
		case ActCreate, ActUpdate, ActOverwrite:
			if !t.inDst[st.Source] && !seen[st.Source] {
				seen[st.Source] = true
				wants = append(wants, st.Source)
			}
		}
	}
	if len(wants) == 0 {
		return strings.NewReader(string(emptyPack)), int64(len(emptyPack)), func() {}, nil
	}
	pack, _, err := t.fetch(ctx, wants, t.haves, true, "")
	if err != nil {
		return nil, 0, nil, err
	}
	if t.s.cacheDir == "" {
		return pack, -1, func() { pack.Close() }, nil
	}
	// Feed the graph cache: from a commits-only fetch beside a big pack,
	// else from the same stream.
	r, count, ok := packCount(pack)
	if t.feedsApart(count, ok) {
		fd := t.startFeed(ctx, wants, t.haves)
		return &fedPack{r: r, feed: fd}, -1, func() { fd.stop(); pack.Close() }, nil
	}
	pw, wait := startScan(t.s.graph, nil, t.s.log)
	tee := &teeCloser{r: io.TeeReader(r, pw), pw: pw, wait: wait}
	return tee, -1, func() { _ = wait(); pack.Close() }, nil
}

// teeCloser closes the scanner's pipe when the stream ends. At the end it
// waits for the scan, so that a pack the scan refused (one that ends before
// the objects it announced) fails the stream instead of reaching the target.
type teeCloser struct {
	r    io.Reader
	pw   *io.PipeWriter
	wait func() error
}

func (t *teeCloser) Read(b []byte) (int, error) {
	n, err := t.r.Read(b)
	if err != nil {
		t.pw.CloseWithError(err)
		if bad := t.wait(); err == io.EOF && bad != nil {
			return n, bad
		}
	}
	return n, err
}

func (t *transfer) cleanup() {
	if t.follow != nil {
		t.follow.close()
	}
	if t.spool != nil {
		name := t.spool.Name()
		t.spool.Close()
		os.Remove(name)
	}
}

func dedupe(hs []plumbing.Hash) []plumbing.Hash {
	seen := map[plumbing.Hash]bool{}
	var out []plumbing.Hash
	for _, h := range hs {
		if !h.IsZero() && !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}

// answers combines exact answers with the graph's.
type answers struct {
	g     *Graph
	mu    sync.Mutex // a two-way sync's legs settle questions at the same time
	exact map[string]Answer
	// load, when set, reads the rest of the graph (the cache) and reports
	// whether it did so now: called when the graph leaves a question
	// Unknown, and by full (syncer.lazyAncestry).
	load func() bool
}

// full returns the graph with the cache read into it.
func (a *answers) full() *Graph {
	if a.load != nil {
		a.load()
	}
	return a.g
}

func newAnswers(g *Graph) *answers { return &answers{g: g, exact: map[string]Answer{}} }

func questionKey(a plumbing.Hash, from []plumbing.Hash) string {
	var b strings.Builder
	b.WriteString(a.String())
	for _, f := range from {
		b.WriteByte(' ')
		b.WriteString(f.String())
	}
	return b.String()
}

func (a *answers) set(q question, ans Answer) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.exact[questionKey(q.target, q.from)] = ans
}

func (a *answers) Reaches(x plumbing.Hash, from []plumbing.Hash) Answer {
	a.mu.Lock()
	v, ok := a.exact[questionKey(x, from)]
	a.mu.Unlock()
	if ok {
		return v
	}
	ans := a.g.Reaches(x, from)
	if ans == Unknown && a.load != nil && a.load() {
		ans = a.g.Reaches(x, from)
	}
	return ans
}
