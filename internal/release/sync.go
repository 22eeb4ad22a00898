package release

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
)

// Defaults for Options.
const (
	DefaultParallel   = 4
	DefaultAttempts   = 4
	DefaultRetryDelay = 2 * time.Second
	maxRetryDelay     = time.Minute
)

// Side is a repository on a site that keeps releases.
type Side struct {
	Releases forge.Releases
	Owner    string
	Name     string
}

func (s Side) full() string { return s.Owner + "/" + s.Name }

// Options describe one releases sync.
type Options struct {
	Source Side
	Target Side
	// TagOnTarget tells whether a tag is on the target as on the source
	// (TagsFrom reads it from the refs' sync), and if not why. Nil means
	// every tag is there.
	TagOnTarget func(tag string) (ok bool, reason string)
	// AssetLimit is the largest asset the target takes, in bytes: 0 asks
	// the target (Releases.AssetLimit), negative means no limit.
	AssetLimit int64
	// Parallel is how many assets are copied at once; default 4.
	Parallel int
	// Attempts is how often one asset is tried; default 4.
	Attempts int
	// RetryDelay is the wait before an asset's second try, doubled for each
	// further one; default 2 s.
	RetryDelay time.Duration
	// DryRun reports what would change and writes nothing.
	DryRun bool
	// Logger gets one line per change; nil discards.
	Logger *slog.Logger
}

func (o *Options) validate() error {
	if o.Source.Releases == nil || o.Target.Releases == nil {
		return failure.New(failure.Invalid, "releases: both sides need a site that keeps releases")
	}
	if o.Source.Owner == "" || o.Source.Name == "" || o.Target.Owner == "" || o.Target.Name == "" {
		return failure.New(failure.Invalid, "releases: both sides need an owner and a repository name")
	}
	if o.Parallel <= 0 {
		o.Parallel = DefaultParallel
	}
	if o.Attempts <= 0 {
		o.Attempts = DefaultAttempts
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = DefaultRetryDelay
	}
	if o.AssetLimit == 0 {
		o.AssetLimit = o.Target.Releases.AssetLimit()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.TagOnTarget == nil {
		o.TagOnTarget = func(string) (bool, string) { return true, "" }
	}
	return nil
}

// syncer carries one Sync's options and collects its asset jobs.
type syncer struct {
	opts Options
	log  *slog.Logger
	jobs []*assetJob
}

// Sync mirrors the releases of opts.Source onto opts.Target. It returns an
// error only when either side's releases cannot be listed at all; each
// release's and asset's own trouble is in the Result.
func Sync(ctx context.Context, opts Options) (*Result, error) {
	start := time.Now()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	s := &syncer{opts: opts, log: opts.Logger.With(slog.String("source", opts.Source.full()), slog.String("target", opts.Target.full()))}
	src, err := opts.Source.Releases.ListReleases(ctx, opts.Source.Owner, opts.Source.Name)
	if err != nil {
		return nil, failure.Wrap(failure.ClassOf(err), err, "listing the source's releases")
	}
	dst, err := opts.Target.Releases.ListReleases(ctx, opts.Target.Owner, opts.Target.Name)
	if err != nil {
		return nil, failure.Wrap(failure.ClassOf(err), err, "listing the target's releases")
	}
	onTarget := map[string]*forge.Release{}
	for _, r := range dst {
		onTarget[r.TagName] = r
	}
	res := &Result{}
	seen := map[string]bool{}
	var todo []*pending
	// Oldest first, so that the target lists them in the source's order.
	for i := len(src) - 1; i >= 0; i-- {
		r := src[i]
		if r.Draft {
			res.Drafts++
			continue
		}
		seen[r.TagName] = true
		todo = append(todo, &pending{src: r, dst: onTarget[r.TagName]})
	}
	// Reads first, Parallel at a time: with latency they are most of a run
	// that has nothing to copy. Writes to releases follow in order.
	s.prefetch(ctx, todo)
	results := make([]*ReleaseResult, 0, len(todo))
	for _, p := range todo {
		results = append(results, s.release(ctx, p))
	}
	for tag := range onTarget {
		if !seen[tag] {
			res.Kept++
		}
	}
	s.copyAll(ctx)
	for _, j := range s.jobs {
		if j.res.Outcome == Created || j.res.Outcome == Updated {
			res.Uploaded++
			res.Bytes += j.res.Size
			if j.owner.Outcome == Unchanged {
				j.owner.Outcome = Updated
			}
		}
	}
	for _, r := range results {
		res.Releases = append(res.Releases, *r)
	}
	res.Duration = time.Since(start)
	s.log.Info("releases mirrored", slog.Int("releases", len(res.Releases)), slog.Int("changed", res.Changed()),
		slog.Int("uploaded", res.Uploaded), slog.Int64("bytes", res.Bytes), slog.Bool("ok", res.OK()))
	return res, nil
}

// want is what the target's release of r should say. Gitee refuses a
// release without a name: the tag stands in, as both sites show it.
func want(r *forge.Release) forge.ReleaseInput {
	name := r.Name
	if strings.TrimSpace(name) == "" {
		name = r.TagName
	}
	return forge.ReleaseInput{TagName: r.TagName, Name: name, Body: r.Body, Prerelease: r.Prerelease, TargetCommitish: r.TagName}
}

// sameText compares notes as both sites may store them (line endings,
// surrounding blanks).
func sameText(a, b string) bool {
	norm := func(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")) }
	return norm(a) == norm(b)
}

func differs(in forge.ReleaseInput, t *forge.Release) bool {
	return t.Draft || !sameText(in.Name, t.Name) || !sameText(in.Body, t.Body) || in.Prerelease != t.Prerelease
}

// pending is one source release on its way: its target release (nil when
// missing) and both asset lists, read ahead by prefetch.
type pending struct {
	src, dst        *forge.Release
	skip            string // why its tag is not on the target; "" when it is
	srcAssets, have []*forge.Asset
	srcErr, haveErr error
}

// prefetch lists the assets of every release whose tag is on the target,
// on the source and (when it exists) on the target.
func (s *syncer) prefetch(ctx context.Context, todo []*pending) {
	o := s.opts
	work := make(chan func())
	var wg sync.WaitGroup
	for range min(o.Parallel, len(todo)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for fn := range work {
				fn()
			}
		}()
	}
	for _, p := range todo {
		if ok, why := o.TagOnTarget(p.src.TagName); !ok {
			p.skip = why
			continue
		}
		work <- func() {
			p.srcAssets, p.srcErr = o.Source.Releases.ListAssets(ctx, o.Source.Owner, o.Source.Name, p.src)
		}
		if p.dst != nil {
			work <- func() { p.have, p.haveErr = o.Target.Releases.ListAssets(ctx, o.Target.Owner, o.Target.Name, p.dst) }
		}
	}
	close(work)
	wg.Wait()
}

// release brings one source release's text to the target and queues its
// assets.
func (s *syncer) release(ctx context.Context, p *pending) *ReleaseResult {
	o := s.opts
	src, dst := p.src, p.dst
	in := want(src)
	rr := &ReleaseResult{Tag: src.TagName, Name: in.Name, Prerelease: src.Prerelease, Outcome: Unchanged}
	log := s.log.With(slog.String("tag", src.TagName))
	if p.skip != "" {
		rr.Outcome, rr.Message = Skipped, p.skip
		log.Info("release skipped", slog.String("reason", p.skip))
		return rr
	}
	fail := func(err error, what string) *ReleaseResult {
		rr.Outcome, rr.Class, rr.Message = Failed, failure.ClassOf(err), what+": "+err.Error()
		log.Warn("release failed", slog.String("step", what), slog.Any("error", err))
		return rr
	}
	switch {
	case p.srcErr != nil:
		return fail(p.srcErr, "listing the source's assets")
	case p.haveErr != nil:
		return fail(p.haveErr, "listing the target's assets")
	case dst == nil && o.DryRun:
		rr.Outcome = Planned
	case dst == nil:
		made, err := o.Target.Releases.CreateRelease(ctx, o.Target.Owner, o.Target.Name, in)
		if err != nil {
			return fail(err, "creating the release")
		}
		dst, rr.Outcome = made, Created
		log.Info("release created")
	case differs(in, dst) && o.DryRun:
		rr.Outcome = Planned
	case differs(in, dst):
		up, err := o.Target.Releases.UpdateRelease(ctx, o.Target.Owner, o.Target.Name, dst.ID, in)
		if err != nil {
			return fail(err, "updating the release's name and notes")
		}
		if up.UploadURL == "" {
			up.UploadURL = dst.UploadURL
		}
		dst, rr.Outcome = up, Updated
		log.Info("release updated")
	}
	byName := map[string]*forge.Asset{}
	for _, a := range p.have {
		byName[a.Name] = a
	}
	for _, a := range p.srcAssets {
		s.plan(rr, src, dst, a, byName[a.Name])
	}
	return rr
}

// plan decides about one asset: nothing, skip, or a copy job.
func (s *syncer) plan(rr *ReleaseResult, srcRel, dstRel *forge.Release, a, have *forge.Asset) {
	o := s.opts
	ar := AssetResult{Name: a.Name, Size: a.Size, Outcome: Unchanged}
	copyIt := false
	switch {
	case a.Incomplete:
		ar.Outcome, ar.Message = Skipped, "its upload never finished on the source"
	case have != nil && sameAsset(a, have):
	case o.AssetLimit > 0 && a.Size > o.AssetLimit:
		ar.Outcome, ar.Message = Skipped, overLimit(a, o.AssetLimit)
		s.log.Warn("asset over the target's limit", slog.String("tag", rr.Tag), slog.String("asset", a.Name),
			slog.Int64("size", a.Size), slog.Int64("limit", o.AssetLimit))
	case o.DryRun || dstRel == nil:
		ar.Outcome = Planned
	default:
		copyIt = true
	}
	rr.Assets = append(rr.Assets, ar)
	if copyIt {
		s.jobs = append(s.jobs, &assetJob{srcRel: srcRel, dstRel: dstRel, src: a, old: have, owner: rr, idx: len(rr.Assets) - 1})
	}
}

// overLimit says why an asset is skipped.
func overLimit(a *forge.Asset, limit int64) string {
	return a.Name + " is " + mib(a.Size) + ", over the target's limit of " + mib(limit) + " per file; not copied (a paid Gitee plan, or a smaller file, lifts this)"
}

// sameAsset reports whether have holds a's bytes: same size, same digest
// when both sites give one, and a finished upload.
func sameAsset(a, have *forge.Asset) bool {
	if have.Incomplete || a.Size != have.Size {
		return false
	}
	return a.Digest == "" || have.Digest == "" || strings.EqualFold(a.Digest, have.Digest)
}

// copyAll runs the asset jobs, Parallel at a time.
func (s *syncer) copyAll(ctx context.Context) {
	// Every release's Assets slice is complete now: pointers into it stay
	// valid while the jobs run.
	for _, j := range s.jobs {
		j.res = &j.owner.Assets[j.idx]
	}
	work := make(chan *assetJob)
	var wg sync.WaitGroup
	for range min(s.opts.Parallel, len(s.jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				s.copy(ctx, j)
			}
		}()
	}
	for _, j := range s.jobs {
		work <- j
	}
	close(work)
	wg.Wait()
}
