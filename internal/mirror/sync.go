package mirror

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/lfs"
	"github.com/go-git/go-git/v5/plumbing"
)

// Sync mirrors the in-scope refs of opts.Source to opts.Target.
//
// The returned error is non-nil when the sync as a whole could not run (bad
// token, repository not found, network down after retries); it is then a
// *failure.Error. Per-ref problems (diverged, rejected) are in the Result,
// with a nil error. A partial Result may accompany an error.
func Sync(ctx context.Context, opts Options) (*Result, error) {
	start := time.Now()
	if err := opts.validate(); err != nil {
		return nil, failure.Wrap(failure.Invalid, err, "invalid options")
	}
	s, err := newSyncer(opts)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()

	var res *Result
	var prev []*Result
	for attempt := 1; ; attempt++ {
		var retry bool
		s.lfsAttempt()
		res, retry, err = s.attempt(ctx)
		var ce *createError
		switch {
		case errors.As(err, &ce):
			return nil, ce.err
		case errors.Is(err, errSourceEmpty):
			s.log.Info("the source has no branches or tags; the target was not created")
			return &Result{NoOp: true, SourceEmpty: true, Attempts: attempt, Duration: time.Since(start)}, nil
		}
		if res != nil {
			res.Attempts = attempt
			prev = append(prev, res)
		}
		if err == nil && !retry {
			break
		}
		if attempt >= opts.Attempts || (err != nil && !failure.IsTransient(err)) || ctx.Err() != nil {
			break
		}
		wait := opts.RetryDelay << (attempt - 1)
		s.log.Info("retrying sync", slog.Int("attempt", attempt+1), slog.Duration("after", wait), slog.Any("reason", errOrConflict(err)))
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
	res = mergeAttempts(prev)
	if res != nil {
		res.LFS = s.lfsResult()
		res.Duration = time.Since(start)
		if !opts.DryRun {
			if serr := s.saveState(res); serr != nil {
				s.log.Warn("could not save sync state", slog.Any("error", serr))
			}
		}
	}
	if err != nil && ctx.Err() != nil && failure.ClassOf(err) != failure.Timeout {
		err = failure.Wrap(failure.Timeout, err, "the sync did not finish within %s", opts.Timeout)
	}
	return res, err
}

func errOrConflict(err error) any {
	if err != nil {
		return err.Error()
	}
	return "a ref moved on the target during the sync"
}

// errSourceEmpty ends a sync that was to create the target: the source has
// no branch and no tag.
var errSourceEmpty = errors.New("the source has no branches or tags")

// createError carries Options.CreateTarget's error out of an attempt, so
// that Sync returns it as it is, without retrying.
type createError struct{ err error }

func (e *createError) Error() string { return e.err.Error() }
func (e *createError) Unwrap() error { return e.err }

// syncer holds what stays the same across attempts of one sync.
type syncer struct {
	opts     Options
	create   func(context.Context) error // Options.CreateTarget until it has been called
	log      *slog.Logger
	scope    Scope
	src, dst *remote
	graph    *Graph
	// graphRead: the graph cache was read into graph (loadGraph). Nodes
	// added before that are merged in by Load, which keeps Save from
	// appending those the file has.
	graphRead bool
	graphMu   sync.Mutex // guards graphRead
	// prefetched: the first attempt looked at Options.Hints (prefetch.go).
	prefetched bool
	caps       *capCache // nil without a cache directory
	state      StateStore
	saved      map[string]string // the state as loaded, to skip saving it unchanged
	last       map[string]plumbing.Hash
	listed     map[string]bool // in-scope refs on either side, as last listed
	cacheDir   string          // per-mirror directory, "" without a cache
	redact     func(string) string
	stamp      string // names this sync's backup refs

	// Git LFS (lfscopy.go): clients per side, this attempt's report and
	// what earlier attempts uploaded. lfsMu guards the clients and the
	// report, which a two-way sync's legs share.
	lfsMu            sync.Mutex
	lfsClients       map[*remote]*lfs.Client
	lfsRep           *LFSReport
	lfsUploaded      int
	lfsUploadedBytes int64
}

func newSyncer(opts Options) (*syncer, error) {
	scope, err := NewScope(opts.Branches, opts.Tags, opts.NoTags)
	if err != nil {
		return nil, failure.Wrap(failure.Invalid, err, "invalid ref filter")
	}
	redact := redactor(opts.Source.Token, opts.Target.Token)
	client := opts.HTTPClient
	if client == nil {
		client = DefaultHTTPClient()
	}
	src, err := newRemote("source", opts.Source, client, opts.UserAgent, redact)
	if err != nil {
		return nil, err
	}
	dst, err := newRemote("target", opts.Target, client, opts.UserAgent, redact)
	if err != nil {
		return nil, err
	}
	src.progress = newTracker(opts.Progress, redact)
	dst.progress = src.progress
	s := &syncer{
		opts: opts, create: opts.CreateTarget, scope: scope, src: src, dst: dst, graph: NewGraph(), redact: redact,
		log:   opts.Logger.With(slog.String("source", src.url), slog.String("target", dst.url)),
		state: opts.State, last: map[string]plumbing.Hash{},
		stamp: time.Now().UTC().Format("20060102T150405Z"),
	}
	if opts.CacheDir != "" {
		if s.cacheDir, err = cacheDirFor(opts.CacheDir, src.url, dst.url); err != nil {
			return nil, failure.Wrap(failure.Invalid, err, "cache-path %s is not usable", opts.CacheDir)
		}
		// A sync cannot outlive its timeout: a temporary pack older than
		// that, with a margin, was left by a process that died.
		removeStaleSpools(s.cacheDir, opts.Timeout+10*time.Minute, time.Now(), s.log)
		if s.caps, err = loadCapCache(filepath.Join(s.cacheDir, "caps.json")); err != nil {
			s.log.Warn("ignoring unreadable capability cache", slog.Any("error", err))
		}
		if s.state == nil {
			s.state = fileState{path: filepath.Join(s.cacheDir, "state.json")}
		}
	}
	if s.state != nil {
		m, err := s.state.Load()
		if err != nil {
			return nil, failure.Wrap(failure.Internal, err, "cannot read the last-synced state")
		}
		s.last = make(map[string]plumbing.Hash, len(m))
		for ref, h := range m {
			if id, ok := parseID(h); ok {
				s.last[ref] = id
			}
		}
		s.saved = m
	}
	return s, nil
}

// ancestry returns the answers of an attempt that has questions or work:
// the graph, read from the cache directory the first time. A sync that
// finds both sides in sync never reads it. (Reading it beside the ref
// listings instead was measured: no faster with work, 6 ms and 1.4 MiB
// more for a no-op of 124k objects.)
func (s *syncer) ancestry() *answers {
	s.loadGraph()
	return newAnswers(s.graph)
}

// lazyAncestry is ancestry without reading the cache until an answer
// needs it: a question the graph leaves Unknown, or a walk of the whole
// graph (answers.full). A hinted sync's prefetched pack holds the new
// commits down to the target's tips, so its questions are answered from
// the pack alone, and the cache (12,000 commits, 0.5 MB for nginx) is not
// read on its critical path. Answers stay exact: a Yes is a path of real
// edges; a No needs a walk that ended at root commits, whatever was read.
func (s *syncer) lazyAncestry() *answers {
	a := newAnswers(s.graph)
	a.load = s.loadGraph
	return a
}

// loadGraph reads the graph cache into s.graph the first time, and
// reports whether it did so now.
func (s *syncer) loadGraph() bool {
	s.graphMu.Lock() // a hinted sync's prefetch may read it first (prefetch.go)
	defer s.graphMu.Unlock()
	if s.cacheDir == "" || s.graphRead {
		return false
	}
	s.graphRead = true
	if err := s.graph.Load(filepath.Join(s.cacheDir, "graph")); err != nil {
		s.log.Warn("ignoring unreadable commit graph cache", slog.Any("error", err))
	}
	if err := s.graph.loadNot(filepath.Join(s.cacheDir, "graph.not")); err != nil {
		s.log.Warn("ignoring unreadable ancestry cache", slog.Any("error", err))
	}
	return true
}

// saveState records what each ref now is on the target, and the graph.
func (s *syncer) saveState(res *Result) error {
	if s.cacheDir != "" {
		if err := s.graph.Save(filepath.Join(s.cacheDir, "graph")); err != nil {
			return err
		}
		if err := s.graph.saveNot(filepath.Join(s.cacheDir, "graph.not")); err != nil {
			return err
		}
		if err := s.caps.save(); err != nil {
			return err
		}
	}
	if s.state == nil {
		return nil
	}
	m := make(map[string]string, len(s.last))
	for ref := range s.last {
		// What it was read from, as Hash.String writes it (the same
		// string unless it had upper-case digits): s.last is only ever
		// written by newSyncer, from s.saved.
		m[ref] = strings.ToLower(s.saved[ref])
	}
	if s.opts.TwoWay && s.listed != nil {
		// Gone from both sides: nothing left to compare with.
		for ref := range m {
			if s.scope.In(ref) && !s.listed[ref] {
				delete(m, ref)
			}
		}
	}
	for _, r := range res.Refs {
		switch r.Outcome {
		case Unchanged, Created, Updated, Forced:
			// The value both sides now hold; in a two-way sync that wrote
			// the source, the target's.
			v := r.Source
			if r.Side == SideSource {
				v = r.Target
			}
			if v != "" {
				m[r.Ref] = v
			}
		case Deleted:
			delete(m, r.Ref)
		}
	}
	if maps.Equal(m, s.saved) {
		return nil
	}
	if err := s.state.Save(m); err != nil {
		return fmt.Errorf("error saving last-synced state: %w", err)
	}
	return nil
}

// mergeAttempts keeps the last attempt's view, but a ref that an earlier
// attempt wrote keeps that outcome rather than "unchanged".
func mergeAttempts(all []*Result) *Result {
	if len(all) == 0 {
		return nil
	}
	last := all[len(all)-1]
	for _, earlier := range all[:len(all)-1] {
		for _, e := range earlier.Refs {
			if !e.Changed() {
				continue
			}
			for i, r := range last.Refs {
				if r.Ref == e.Ref && r.Outcome == Unchanged {
					last.Refs[i] = e
				}
			}
		}
		last.Backups = append(earlier.Backups, last.Backups...)
		last.SourceBackups = append(earlier.SourceBackups, last.SourceBackups...)
		last.Bytes += earlier.Bytes
		last.NoOp = last.NoOp && earlier.NoOp
	}
	return last
}
