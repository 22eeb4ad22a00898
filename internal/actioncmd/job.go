package actioncmd

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// errWouldCreate is what a dry run's CreateTarget returns: the destination
// would be created, and the sync stops there.
var errWouldCreate = errors.New("dry run: the destination would be created")

// mirrorRepo mirrors one repository: makes sure the destination exists
// (having the sync create it if allowed, once it has seen that the source
// has branches or tags), syncs, and gives a created destination the
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

	create, err := r.ensureTarget(ctx, j)
	if err != nil {
		res.fail(err)
		return res
	}

	opts := r.o.sync // a copy
	opts.Source = mirror.Endpoint{URL: res.SourceURL, Username: r.srcCred.Username, Token: r.srcCred.Token}
	opts.Target = mirror.Endpoint{URL: res.DestinationURL, Username: r.dstCred.Username, Token: r.dstCred.Token}
	opts.Logger = r.o.sync.Logger.With(slog.String("repository", j.name))
	if j.log != nil {
		opts.Logger = j.log
	}
	var doneProgress func()
	opts.Progress, doneProgress = r.board.track(j.name)
	defer doneProgress()
	var made *forge.Repo // the destination, as created by this run
	if create {
		// The sync reads the source first and calls this only when it has
		// branches or tags, so an empty source leaves no empty mirror behind
		// and costs no ref listing of its own.
		opts.CreateTarget = func(ctx context.Context) error {
			if opts.DryRun {
				return errWouldCreate
			}
			m, err := r.createTarget(ctx, j)
			made = m
			return err
		}
	}
	out, err := r.app.Sync(ctx, opts)
	switch {
	case errors.Is(err, errWouldCreate):
		res.Status, res.Note = statusPlanned, "would create "+res.Destination+" ("+string(r.visibility(j.source))+") and mirror it"
		return res
	case err == nil && out != nil && out.SourceEmpty:
		res.Status, res.Note = statusSkipped, skipEmpty+"; the destination was not created"
		return res
	}
	res.Created = made != nil
	res.record(out, err, outOfSync(opts))
	if r.o.releases && err == nil && out != nil && !out.SourceEmpty {
		r.releases(ctx, j, out, opts, &res)
	}
	if res.Status == statusSkipped || !res.Created || opts.DryRun {
		return res
	}
	res.Note = "created"
	if branch := j.source.DefaultBranch; branch != "" && landed(out, branch) {
		// A created repository whose HEAD already names the branch, now
		// that the branch exists, needs no update.
		if made.DefaultBranch != branch {
			err := r.dst.UpdateRepo(ctx, r.o.destination.owner, j.target, forge.RepoUpdate{DefaultBranch: branch})
			if err != nil {
				res.fail(failure.Wrap(failure.ClassOf(err), err, "mirrored, but setting the default branch to %s failed", branch))
				return res
			}
		}
		res.Note += "; default branch " + branch
	}
	return res
}

// ensureTarget finds out whether the destination exists. create is true
// when it does not and may be created (create-missing): the sync then
// creates it with createTarget, unless the source turns out to be empty or
// the run is a dry run. j.source is known afterwards when create is true.
func (r *accountRun) ensureTarget(ctx context.Context, j *job) (create bool, err error) {
	owner := r.o.destination.owner
	exists, known := r.dstIndex.lookup(j.target)
	if !known {
		_, err := r.dst.GetRepo(ctx, owner, j.target)
		if err != nil && failure.ClassOf(err) != failure.NotFound {
			return false, err
		}
		exists = err == nil
	}
	if exists {
		return false, nil
	}
	if !r.o.createMissing {
		return false, failure.New(failure.NotFound, "%s/%s does not exist on %s: create it, or set create-missing: true", owner, j.target, r.o.destination.site)
	}
	if j.source == nil { // a repositories entry: not listed, so not known yet
		src, err := r.src.GetRepo(ctx, r.o.source.owner, j.name)
		if err != nil {
			return false, err
		}
		j.source = src
	}
	return true, nil
}

// createTarget creates the destination with the source's description,
// homepage and the chosen visibility, and returns it as the destination
// describes it (never nil without an error).
func (r *accountRun) createTarget(ctx context.Context, j *job) (*forge.Repo, error) {
	owner := r.o.destination.owner
	kind := r.dstKind.get(ctx, r.dst, owner)
	repo, err := r.dst.CreateRepo(ctx, forge.CreateOptions{
		Owner:       owner,
		OwnerKind:   kind,
		Name:        j.target,
		Description: j.source.Description,
		Homepage:    j.source.Homepage,
		Visibility:  r.visibility(j.source),
	})
	if err != nil {
		return nil, err
	}
	r.dstKind.created(kind)
	if repo == nil {
		repo = &forge.Repo{Owner: owner, Name: j.target}
	}
	return repo, nil
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
