package actioncmd

import (
	"context"
	"errors"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// creatable reports whether a missing destination may be created: it is
// named gitee/OWNER/REPO or github/OWNER/REPO (so its site's API is known)
// and create-missing is on.
func (ro *repoOptions) creatable() bool {
	return ro.createMissing && ro.dst.site != siteOther && ro.dst.name != ""
}

// syncCreating runs the sync; when it fails because the destination does
// not exist and the destination may be created, it creates it as account
// mode does (description, homepage, visibility, then default branch) and
// syncs again. A run whose destination exists never calls the API: the
// check comes only after a not-found. note says what was created, if
// anything.
func (a *App) syncCreating(ctx context.Context, c *console, ro *repoOptions) (res *mirror.Result, note string, err error) {
	opts := ro.sync
	res, err = a.Sync(ctx, opts)
	if err == nil || failure.ClassOf(err) != failure.NotFound || !ro.creatable() {
		return res, "", err
	}
	r, j, cerr := a.missingTarget(ctx, c, ro)
	if cerr != nil || r == nil {
		// Not missing after all (the source was), or the API could not
		// tell: the sync's own error says more.
		if cerr != nil {
			c.warningf("could not check whether %s exists: %s", ro.dst.fullName(), c.red.String(cerr.Error()))
		}
		return res, "", err
	}
	var made *forge.Repo
	opts.CreateTarget = func(ctx context.Context) error {
		if opts.DryRun {
			return errWouldCreate
		}
		m, err := r.createTarget(ctx, j)
		made = m
		return err
	}
	c.printf("%s does not exist: creating it (create-missing)", ro.dst.fullName())
	res, err = a.Sync(ctx, opts)
	switch {
	case errors.Is(err, errWouldCreate):
		return &mirror.Result{}, "dry run: would create " + ro.dst.fullName() + " (" + string(r.visibility(j.source)) + ") and mirror it", nil
	case err == nil && res != nil && res.SourceEmpty:
		return res, "the source has no branches or tags yet; " + ro.dst.fullName() + " was not created", nil
	case made == nil:
		return res, "", err
	}
	note = "created " + ro.dst.fullName()
	if branch := j.source.DefaultBranch; err == nil && branch != "" && landed(res, branch) && made.DefaultBranch != branch {
		if uerr := r.dst.UpdateRepo(ctx, ro.dst.owner, j.target, forge.RepoUpdate{DefaultBranch: branch}); uerr != nil {
			return res, note, failure.Wrap(failure.ClassOf(uerr), uerr, "mirrored, but setting the default branch of %s to %s failed", ro.dst.fullName(), branch)
		}
	}
	if branch := j.source.DefaultBranch; branch != "" && landed(res, branch) {
		note += "; default branch " + branch
	}
	return res, note, err
}

// missingTarget asks the destination's API whether the repository exists.
// It returns a run able to create it, with what the source's API says about
// the source (description, homepage, visibility, default branch), or nil
// when the destination exists.
func (a *App) missingTarget(ctx context.Context, c *console, ro *repoOptions) (*accountRun, *job, error) {
	warn := func(msg string) { c.warningf("%s", msg) }
	dstAcct := account{role: inDestination, site: ro.dst.site, owner: ro.dst.owner,
		token: ro.sync.Target.Token, tokenInput: inDestinationToken, username: ro.dstUsername}
	dst, err := a.newForge(ctx, forgeSpec{account: dstAcct, web: ro.hosts.web(ro.dst.site), api: ro.hosts.api(ro.dst.site), warn: warn})
	if err != nil {
		return nil, nil, err
	}
	if _, err := dst.GetRepo(ctx, ro.dst.owner, ro.dst.name); err == nil {
		return nil, nil, nil
	} else if failure.ClassOf(err) != failure.NotFound {
		return nil, nil, err
	}
	j := &job{name: ro.src.name, target: ro.dst.name, source: a.sourceRepo(ctx, ro, warn)}
	o := &accountOptions{destination: dstAcct, visibility: ro.visibility, hosts: ro.hosts}
	return &accountRun{app: a, c: c, o: o, dst: dst}, j, nil
}

// sourceRepo returns what the source's API says about it; an empty Repo
// (created private, no description) when the source is a plain URL or its
// API cannot be asked.
func (a *App) sourceRepo(ctx context.Context, ro *repoOptions, warn func(string)) *forge.Repo {
	if ro.src.site == siteOther || (ro.src.site == siteGitee && ro.sync.Source.Token == "") {
		return &forge.Repo{}
	}
	acct := account{role: inSource, site: ro.src.site, owner: ro.src.owner, token: ro.sync.Source.Token, tokenInput: inSourceToken}
	src, err := a.newForge(ctx, forgeSpec{account: acct, web: ro.hosts.web(ro.src.site), api: ro.hosts.api(ro.src.site), warn: warn})
	if err == nil {
		var r *forge.Repo
		if r, err = src.GetRepo(ctx, ro.src.owner, ro.src.name); err == nil {
			return r
		}
	}
	warn("could not read the source's description and visibility (" + err.Error() + "); the destination is created private, without them")
	return &forge.Repo{}
}

// fullName is the repository as the inputs name it: gitee/OWNER/REPO.
func (r repo) fullName() string {
	if r.site == siteOther {
		return r.url
	}
	return r.site.String() + "/" + r.owner + "/" + strings.TrimSuffix(r.name, ".git")
}
