package jobs

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/gitee"
	"github.com/gitee-mirror/gitee-mirror/internal/githubapp"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/repoconfig"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// userAgent is sent to both sites by the App's syncs.
const userAgent = "gitee-mirror-app"

// Sync implements Runner: push mirrors GitHub → Gitee, pull Gitee → GitHub.
func (r *DefaultRunner) Sync(ctx context.Context, m *store.Mirror) (*mirror.Result, error) {
	log := r.log.With(slog.Int64("mirror_id", m.ID), slog.Int64("installation_id", m.InstallationID), slog.String("repo", m.FullGitHubName()))
	cred, err := r.giteeToken(ctx, m)
	if err != nil {
		return nil, err
	}
	gc, login, err := r.gitee(ctx, cred.Token)
	if err != nil {
		return nil, err
	}
	gh, err := r.github(m.InstallationID)
	if err != nil {
		return nil, err
	}
	token, cached, err := r.repoToken(ctx, m)
	if err != nil {
		return nil, err
	}
	giteeSide := mirror.Endpoint{URL: gc.GitURL(m.GiteeOwner, m.GiteeName), Username: login, Token: cred.Token}
	r.ensureHook(ctx, log, gc, m)
	res, err := r.syncWith(ctx, log, m, gh, gc, token, giteeSide)
	if cached && refusedToken(err) {
		// The kept token may be what was refused: once more with a new one.
		r.forgetToken(m)
		log.Info("sync refused with a GitHub token minted earlier; trying once with a new one", slog.String("error", err.Error()))
		if token, _, err = r.repoToken(ctx, m); err != nil {
			return nil, err
		}
		res, err = r.syncWith(ctx, log, m, gh, gc, token, giteeSide)
	}
	return res, err
}

// syncWith syncs m with the given GitHub token.
func (r *DefaultRunner) syncWith(ctx context.Context, log *slog.Logger, m *store.Mirror, gh *githubapp.Client, gc *gitee.Client, token string, giteeSide mirror.Endpoint) (*mirror.Result, error) {
	githubSide := mirror.Endpoint{URL: gh.GitURL(m.GitHubOwner, m.GitHubName), Username: githubapp.GitUsername, Token: token}
	var source *forge.Repo // the GitHub repository, once read
	if m.Direction == store.Push && m.CreateMissing && !reachedGitee(m) {
		var err error
		if source, err = r.ensureGitee(ctx, log, gh, gc, m); err != nil {
			return nil, err
		}
	}
	opts := mirror.Options{
		Source: githubSide, Target: giteeSide,
		Branches: m.Branches, Tags: m.Tags, NoTags: m.NoTags, Force: m.Force, Prune: m.Prune,
		State:      refState{ctx: ctx, st: r.cfg.Store, id: m.ID},
		HTTPClient: r.cfg.HTTPClient, Logger: log, CacheDir: r.cfg.CacheDir, UserAgent: userAgent,
	}
	if m.Direction == store.Pull {
		opts.Source, opts.Target = giteeSide, githubSide
	}
	if deadline, ok := ctx.Deadline(); ok {
		opts.Timeout = max(time.Until(deadline), time.Millisecond)
	}
	res, err := mirror.Sync(ctx, opts)
	if m.Direction == store.Push && res != nil {
		bg, cancel := afterwards(ctx)
		defer cancel()
		r.setDefaultBranch(bg, log, gh, gc, m, source, res)
		r.reportChecks(bg, log, gh, m, res, err)
	}
	return res, err
}

// reachedGitee reports whether m's last sync reached its Gitee repository
// (in sync, or diverged): the repository exists, so a sync need not ask
// Gitee for it first. Should it have been deleted since, the sync fails
// as "not found", and the next one checks and creates it again.
func reachedGitee(m *store.Mirror) bool {
	return m.Status == store.StatusInSync || m.Status == store.StatusDiverged
}

// ensureGitee creates m's Gitee repository when it is missing, with the
// GitHub repository's description and homepage and the visibility m asks
// for. It returns the GitHub repository when it had to read it.
func (r *DefaultRunner) ensureGitee(ctx context.Context, log *slog.Logger, gh *githubapp.Client, gc *gitee.Client, m *store.Mirror) (*forge.Repo, error) {
	_, err := gc.GetRepo(ctx, m.GiteeOwner, m.GiteeName)
	if err == nil || failure.ClassOf(err) != failure.NotFound {
		return nil, err
	}
	src, err := gh.GetRepo(ctx, m.GitHubOwner, m.GitHubName)
	if err != nil {
		return nil, err
	}
	vis, err := giteeVisibility(m.Visibility, src.Private)
	if err != nil {
		return nil, err
	}
	homepage := src.Homepage
	if homepage == "" {
		homepage = strings.TrimSuffix(src.CloneURL, ".git")
	}
	if _, err := gc.CreateRepo(ctx, forge.CreateOptions{Owner: m.GiteeOwner, Name: m.GiteeName,
		Description: src.Description, Homepage: homepage, Visibility: vis}); err != nil {
		return nil, err
	}
	log.Info("created the Gitee repository", slog.String("target", m.FullGiteeName()), slog.String("visibility", string(vis)))
	return src, nil
}

// giteeVisibility maps a mirror's visibility setting: "source" (or unset)
// follows the GitHub repository.
func giteeVisibility(setting string, githubPrivate bool) (forge.Visibility, error) {
	switch setting {
	case "", repoconfig.VisibilitySource:
		if githubPrivate {
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

// setDefaultBranch gives the Gitee repository GitHub's default branch when
// this sync created that branch there (a new or empty repository).
func (r *DefaultRunner) setDefaultBranch(ctx context.Context, log *slog.Logger, gh *githubapp.Client, gc *gitee.Client, m *store.Mirror, src *forge.Repo, res *mirror.Result) {
	created := map[string]bool{}
	for _, ref := range res.Refs {
		if ref.Outcome == mirror.Created && strings.HasPrefix(ref.Ref, "refs/heads/") {
			created[strings.TrimPrefix(ref.Ref, "refs/heads/")] = true
		}
	}
	if len(created) == 0 {
		return
	}
	if src == nil {
		var err error
		if src, err = gh.GetRepo(ctx, m.GitHubOwner, m.GitHubName); err != nil {
			log.Warn("could not read the GitHub repository's default branch", slog.Any("error", err))
			return
		}
	}
	if !created[src.DefaultBranch] {
		return
	}
	if err := gc.UpdateRepo(ctx, m.GiteeOwner, m.GiteeName, forge.RepoUpdate{DefaultBranch: src.DefaultBranch}); err != nil {
		log.Warn("could not set the Gitee repository's default branch", slog.String("branch", src.DefaultBranch), slog.Any("error", err))
	}
}
