package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// target says what ensureTarget found or did.
type target int

const (
	targetExists      target = iota
	targetCreated            // created by this run
	targetWouldCreate        // dry run: it would be created
	targetSourceEmpty        // missing, and not created: the source is empty
)

// mirrorRepo mirrors one repository: makes sure the destination exists
// (creating it if allowed), syncs, and gives a created destination the
// source's default branch. It never panics on a failure: every failure is in
// the result.
func (r *accountRun) mirrorRepo(ctx context.Context, j *job) (res repoResult) {
	start := time.Now()
	res = repoResult{Source: r.o.source.owner + "/" + j.name, Destination: r.o.destination.owner + "/" + j.target}
	defer func() { res.Time = time.Since(start) }()
	switch {
	case j.skip != "":
		res.Status, res.Note, res.filtered = statusSkipped, j.skip, j.filtered
		return res
	case j.fail != "":
		res.fail(failure.New(failure.Invalid, "%s", j.fail))
		return res
	case ctx.Err() != nil:
		res.fail(ctx.Err())
		return res
	}
	res.SourceURL = r.src.GitURL(r.o.source.owner, j.name)
	res.DestinationURL = r.dst.GitURL(r.o.destination.owner, j.target)

	t, err := r.ensureTarget(ctx, j, res.SourceURL)
	switch {
	case err != nil:
		res.fail(err)
		return res
	case t == targetSourceEmpty:
		res.Status, res.Note = statusSkipped, skipEmpty+"; the destination was not created"
		return res
	case t == targetWouldCreate:
		res.Status, res.Note = statusPlanned, "would create "+res.Destination+" ("+string(r.visibility(j.source))+") and mirror it"
		return res
	}
	res.Created = t == targetCreated

	opts := r.o.sync // a copy
	opts.Source = mirror.Endpoint{URL: res.SourceURL, Username: r.srcCred.Username, Token: r.srcCred.Token}
	opts.Target = mirror.Endpoint{URL: res.DestinationURL, Username: r.dstCred.Username, Token: r.dstCred.Token}
	opts.Logger = r.o.sync.Logger.With(slog.String("repository", j.name))
	out, err := r.app.Sync(ctx, opts)
	res.record(out, err)
	if res.Status == statusSkipped || !res.Created || opts.DryRun {
		return res
	}
	res.Note = "created"
	if branch := j.source.DefaultBranch; branch != "" && landed(out, branch) {
		err := r.dst.UpdateRepo(ctx, r.o.destination.owner, j.target, forge.RepoUpdate{DefaultBranch: branch})
		if err != nil {
			res.fail(failure.Wrap(failure.ClassOf(err), err, "mirrored, but setting the default branch to %s failed", branch))
			return res
		}
		res.Note += "; default branch " + branch
	}
	return res
}

// ensureTarget makes sure the destination exists. A missing one is created
// with the source's description, homepage and the chosen visibility, unless
// create-missing is off, the run is a dry run, or the source is empty.
func (r *accountRun) ensureTarget(ctx context.Context, j *job, sourceURL string) (target, error) {
	owner := r.o.destination.owner
	exists, known := r.dstIndex.lookup(j.target)
	if !known {
		_, err := r.dst.GetRepo(ctx, owner, j.target)
		if err != nil && failure.ClassOf(err) != failure.NotFound {
			return 0, err
		}
		exists = err == nil
	}
	if exists {
		return targetExists, nil
	}
	if !r.o.createMissing {
		return 0, failure.New(failure.NotFound, "%s/%s does not exist on %s: create it, or set create-missing: true", owner, j.target, r.o.destination.site)
	}
	if j.source == nil { // a repositories entry: not listed, so not known yet
		src, err := r.src.GetRepo(ctx, r.o.source.owner, j.name)
		if err != nil {
			return 0, err
		}
		j.source = src
	}
	empty, err := sourceEmpty(ctx, r.hc, sourceURL, r.srcCred)
	switch {
	case err != nil:
		return 0, err
	case empty:
		return targetSourceEmpty, nil
	case r.o.sync.DryRun:
		return targetWouldCreate, nil
	}
	kind := r.dstKind.get(ctx, r.dst, owner)
	_, err = r.dst.CreateRepo(ctx, forge.CreateOptions{
		Owner:       owner,
		OwnerKind:   kind,
		Name:        j.target,
		Description: j.source.Description,
		Homepage:    j.source.Homepage,
		Visibility:  r.visibility(j.source),
	})
	if err != nil {
		return 0, err
	}
	r.dstKind.created(kind)
	return targetCreated, nil
}

// visibility is what a created destination gets: the visibility input, or
// with "source" the same as src (private when src is not known).
func (r *accountRun) visibility(src *forge.Repo) forge.Visibility {
	switch r.o.visibility {
	case visibilityPublic:
		return forge.Public
	case visibilitySource:
		if src != nil && !src.Private {
			return forge.Public
		}
	}
	return forge.Private
}

// landed reports whether branch is on the destination after the sync.
func landed(res *mirror.Result, branch string) bool {
	if res == nil {
		return false
	}
	for _, ref := range res.Refs {
		if ref.Ref == "refs/heads/"+branch {
			return ref.Source != "" && ref.OK() && ref.Outcome != mirror.Planned
		}
	}
	return false
}
