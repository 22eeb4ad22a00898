package jobs

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/logkey"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/repoconfig"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/gitee-mirror/gitee-mirror/internal/validate"
)

// userAgent is sent to both sites by the App's syncs.
const userAgent = "gitee-mirror-app"

// side is one side of a mirror during a sync: its repository, the forge
// that reaches its site, and what Git over HTTPS needs.
type side struct {
	store.Side
	forge forge.Forge
	git   mirror.Endpoint
}

// Sync implements Runner: it copies m's source side to its target side
// (store.Mirror.Source, Target).
func (r *DefaultRunner) Sync(ctx context.Context, m *store.Mirror) (*mirror.Result, error) {
	log := r.log.With(slog.Int64(logkey.MirrorID, m.ID), slog.Int64(logkey.InstallationID, m.InstallationID), slog.String(logkey.Repo, m.A.FullName()))
	cred, err := r.giteeToken(ctx, m)
	if err != nil {
		return nil, err
	}
	fb, err := r.sideB(ctx, m, cred.Token)
	if err != nil {
		return nil, err
	}
	fa, cached, err := r.repoSite(ctx, m, forge.ScopePush)
	if err != nil {
		return nil, err
	}
	b := side{Side: m.B, forge: fb, git: endpoint(fb, m.B, fb.GitCredentials())}
	// After the sync, which may have created side B's repository.
	defer r.ensureHook(ctx, log, fb, m)
	res, err := r.syncWith(ctx, log, m, sideA(m, fa), b)
	if cached && refusedToken(err) {
		// The kept token may be what was refused: once more with a new one.
		r.forgetToken(m)
		log.Info("sync refused with a GitHub token minted earlier; trying once with a new one", slog.String("error", err.Error()))
		if fa, _, err = r.repoSite(ctx, m, forge.ScopePush); err != nil {
			return nil, err
		}
		res, err = r.syncWith(ctx, log, m, sideA(m, fa), b)
	}
	if err == nil {
		r.syncReleases(ctx, log, m, fa, fb, res)
	}
	return res, err
}

// sideA is m's side A reached with a push token narrowed to its one
// repository (repoSite): Git pushes and fetches with it, and the few API
// calls of a sync (the repository's description, default branch) need
// no more than it carries.
func sideA(m *store.Mirror, f forge.Forge) side {
	return side{Side: m.A, forge: f, git: endpoint(f, m.A, f.GitCredentials())}
}

// endpoint is where Git reaches a side.
func endpoint(f forge.Forge, s store.Side, c forge.Credentials) mirror.Endpoint {
	return mirror.Endpoint{URL: f.GitURL(s.Owner, s.Name), Username: c.Username, Token: c.Token}
}

// syncWith syncs m between its two sides.
func (r *DefaultRunner) syncWith(ctx context.Context, log *slog.Logger, m *store.Mirror, a, b side) (*mirror.Result, error) {
	src, dst := a, b
	if m.Direction == store.BToA {
		src, dst = b, a
	}
	// The App creates repositories on side B only: side A is the one it is
	// installed on, which exists.
	createsTarget := dst.Side == m.B && m.CreateMissing
	var source *forge.Repo // the source repository, once read
	if createsTarget && !reachedTarget(m) {
		var err error
		if source, err = r.ensureTarget(ctx, log, src, dst, m); err != nil {
			return nil, err
		}
	}
	if err := validate.Force(m.Direction.TwoWay(), m.Force); err != nil {
		return nil, failure.Wrap(failure.Invalid, err, "the mirror's settings do not go together")
	}
	opts := mirror.Options{
		Source: src.git, Target: dst.git,
		Branches: m.Branches, Tags: m.Tags, NoTags: m.NoTags, Force: m.Force, Prune: m.Prune,
		// Two-way: side A is the core's source, side B its target, peers;
		// L is the store's ref state.
		TwoWay:     m.Direction.TwoWay(),
		LFS:        m.LFS,
		State:      refState{ctx: ctx, st: r.cfg.Store, id: m.ID},
		HTTPClient: r.cfg.HTTPClient, Logger: log, CacheDir: r.cfg.CacheDir, UserAgent: userAgent,
	}
	if !opts.TwoWay && src.Side == m.A {
		// A push to GitHub's side: what it says of the source's refs.
		opts.Hints = hintsFrom(ctx)
	}
	if deadline, ok := ctx.Deadline(); ok {
		opts.Timeout = max(time.Until(deadline), time.Millisecond)
	}
	observe, stopProgress := r.watchProgress(ctx, log, m)
	opts.Progress = observe
	res, err := mirror.Sync(ctx, opts)
	stopProgress()
	if res != nil {
		bg, cancel := afterwards(ctx)
		defer cancel()
		if dst.Side == m.B {
			r.setDefaultBranch(bg, log, src, dst, source, res)
		}
		if _, ok := src.forge.(forge.Checks); ok && src.Side == m.A {
			r.reportChecks(bg, log, m, gitURLs{a: a.git.URL, b: b.git.URL}, res, err)
		}
	}
	return res, err
}

// reachedTarget reports whether m's last sync reached its target repository
// (in sync, or diverged): the repository exists, so a sync need not ask
// for it first. Should it have been deleted since, the sync fails as "not
// found", and the next one checks and creates it again.
func reachedTarget(m *store.Mirror) bool {
	return m.Status == store.StatusInSync || m.Status == store.StatusDiverged
}

// ensureTarget creates the target repository when it is missing, with the
// source repository's description and homepage and the visibility m asks
// for. It returns the source repository when it had to read it.
func (r *DefaultRunner) ensureTarget(ctx context.Context, log *slog.Logger, src, dst side, m *store.Mirror) (*forge.Repo, error) {
	_, err := dst.forge.GetRepo(ctx, dst.Owner, dst.Name)
	if err == nil || failure.ClassOf(err) != failure.NotFound {
		return nil, err
	}
	repo, err := src.forge.GetRepo(ctx, src.Owner, src.Name)
	if err != nil {
		return nil, err
	}
	vis, err := targetVisibility(m.Visibility, repo.Private)
	if err != nil {
		return nil, err
	}
	homepage := repo.Homepage
	if homepage == "" {
		homepage = strings.TrimSuffix(repo.CloneURL, ".git")
	}
	if _, err := dst.forge.CreateRepo(ctx, forge.CreateOptions{Owner: dst.Owner, Name: dst.Name,
		Description: repo.Description, Homepage: homepage, Visibility: vis}); err != nil {
		return nil, err
	}
	log.Info("created the target repository", slog.String(logkey.Target, dst.FullName()), slog.String("site", string(dst.Site)), slog.String("visibility", string(vis)))
	return repo, nil
}

// targetVisibility maps a mirror's visibility setting: "source" (or unset)
// follows the source repository.
func targetVisibility(setting string, sourcePrivate bool) (forge.Visibility, error) {
	switch setting {
	case "", repoconfig.VisibilitySource:
		if sourcePrivate {
			return forge.Private, nil
		}
		return forge.Public, nil
	case repoconfig.VisibilityPrivate:
		return forge.Private, nil
	case repoconfig.VisibilityPublic:
		return forge.Public, nil
	}
	return "", failure.New(failure.Invalid, "visibility %q is not one of private, public, source", setting)
}

// setDefaultBranch gives the target repository the source's default branch
// when this sync created that branch there (a new or empty repository).
func (r *DefaultRunner) setDefaultBranch(ctx context.Context, log *slog.Logger, src, dst side, repo *forge.Repo, res *mirror.Result) {
	created := map[string]bool{}
	for _, ref := range res.Refs {
		// Side source: a two-way sync created it on the source, not here.
		if ref.Outcome == mirror.Created && ref.Side != mirror.SideSource && strings.HasPrefix(ref.Ref, "refs/heads/") {
			created[strings.TrimPrefix(ref.Ref, "refs/heads/")] = true
		}
	}
	if len(created) == 0 {
		return
	}
	if repo == nil {
		var err error
		if repo, err = src.forge.GetRepo(ctx, src.Owner, src.Name); err != nil {
			log.Warn("could not read the source repository's default branch", slog.Any("error", err))
			return
		}
	}
	if !created[repo.DefaultBranch] {
		return
	}
	if err := dst.forge.UpdateRepo(ctx, dst.Owner, dst.Name, forge.RepoUpdate{DefaultBranch: repo.DefaultBranch}); err != nil {
		log.Warn("could not set the target repository's default branch", slog.String("branch", repo.DefaultBranch), slog.Any("error", err))
	}
}
