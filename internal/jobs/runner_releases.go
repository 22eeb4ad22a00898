package jobs

import (
	"context"
	"log/slog"
	"strconv"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/release"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// ReleaseReporter is a Runner whose syncs also mirror releases
// (store.Mirror.Releases). The worker takes what became of them with the
// sync's Result, to record them in the run beside the refs.
type ReleaseReporter interface {
	// Releases returns, once, the releases outcome of the sync that
	// returned res: nil, nil when none were mirrored; an error when they
	// could not be listed at all.
	Releases(res *mirror.Result) (*release.Result, error)
}

var _ ReleaseReporter = (*DefaultRunner)(nil)

// releasesDone is a sync's releases outcome until the worker takes it.
type releasesDone struct {
	res *release.Result
	err error
}

// Releases implements ReleaseReporter.
func (r *DefaultRunner) Releases(res *mirror.Result) (*release.Result, error) {
	if res == nil {
		return nil, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	d := r.released[res]
	delete(r.released, res)
	return d.res, d.err
}

// releasesOf asks runner for the releases outcome of the sync that returned
// res, when it mirrors releases.
func releasesOf(runner Runner, res *mirror.Result) (*release.Result, error) {
	if rr, ok := runner.(ReleaseReporter); ok {
		return rr.Releases(res)
	}
	return nil, nil
}

// syncReleases mirrors m's published releases once its refs are synced
// (res, without error): from the source side to the target, or both ways
// for a two-way mirror, GitHub's first. A release is copied only where its
// tag landed. The outcome waits for the worker (Releases).
func (r *DefaultRunner) syncReleases(ctx context.Context, log *slog.Logger, m *store.Mirror, a, b forge.Forge, res *mirror.Result) {
	if !m.Releases || res == nil || res.SourceEmpty {
		return
	}
	var out releasesDone
	out.res, out.err = r.releases(ctx, log, m, a, b, res)
	r.mu.Lock()
	r.released[res] = out
	r.mu.Unlock()
}

func (r *DefaultRunner) releases(ctx context.Context, log *slog.Logger, m *store.Mirror, a, b forge.Forge, res *mirror.Result) (*release.Result, error) {
	ra, okA := a.(forge.Releases)
	rb, okB := b.(forge.Releases)
	if !okA || !okB {
		return nil, failure.New(failure.Invalid, "releases are mirrored between sites that keep them: %s or %s does not", a.Name(), b.Name())
	}
	sideA := release.Side{Releases: ra, Owner: m.A.Owner, Name: m.A.Name}
	sideB := release.Side{Releases: rb, Owner: m.B.Owner, Name: m.B.Name}
	src, dst := sideA, sideB
	if m.Direction == store.BToA {
		src, dst = sideB, sideA
	}
	opts := release.Options{Source: src, Target: dst, TagOnTarget: release.TagsFrom(res), Logger: log}
	out, err := release.Sync(ctx, opts)
	if err != nil || !m.Direction.TwoWay() {
		return out, err
	}
	// Two-way: then what only side B has. A release on both sides was
	// made equal by the first pass (side A's text wins), so the second
	// lists only what it changed.
	opts.Source, opts.Target = sideB, sideA
	back, err := release.Sync(ctx, opts)
	if err != nil {
		return out, err
	}
	listed := map[string]bool{}
	for _, rel := range out.Releases {
		listed[rel.Tag] = true
	}
	for _, rel := range back.Releases {
		if !listed[rel.Tag] || rel.Outcome != release.Unchanged || !rel.OK() || rel.Changed() {
			out.Releases = append(out.Releases, rel)
		}
	}
	out.Uploaded += back.Uploaded
	out.Bytes += back.Bytes
	out.Duration += back.Duration
	return out, nil
}

// judgeReleases folds the releases outcome into a sync's verdict: a
// release or asset that could not be copied fails the run (the refs are
// recorded as they are), so that it is retried, transient trouble with
// backoff.
func judgeReleases(v verdict, rel *release.Result, err error) verdict {
	if v.outcome == store.OutcomeFailed || v.outcome == store.OutcomeInterrupted {
		return v
	}
	if err != nil {
		c := failure.ClassOf(err)
		msg := "releases: " + err.Error()
		return verdict{outcome: store.OutcomeFailed, status: store.StatusFailing, class: c, message: msg, err: failure.Wrap(c, err, "releases")}
	}
	if rel.OK() {
		return v
	}
	var first *failure.Error
	bad := 0
	for _, r := range rel.Releases {
		if r.Outcome == release.Failed {
			bad++
			if first == nil {
				first = failure.New(r.Class, "release %s: %s", r.Tag, r.Message)
			}
		}
		for _, a := range r.Assets {
			if a.Outcome == release.Failed {
				bad++
				if first == nil {
					first = failure.New(a.Class, "release %s, asset %s: %s", r.Tag, a.Name, a.Message)
				}
			}
		}
	}
	if first.Class == "" {
		first.Class = failure.Rejected
	}
	msg := first.Message
	if bad > 1 {
		msg += " (and " + strconv.Itoa(bad-1) + " more releases or assets not mirrored)"
	}
	first.Message = msg
	return verdict{outcome: store.OutcomeFailed, status: store.StatusFailing, class: first.Class, message: msg, err: first}
}
