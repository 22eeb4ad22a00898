package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/logkey"
	"github.com/gitee-mirror/gitee-mirror/internal/repoconfig"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// ApplyConfig implements Runner: it reads .github/gitee-mirror.yml on the
// repository's default branch and makes the repository's file-sourced
// mirrors match it. A mirror the file lists that exists already (even one
// made on the settings page) is updated and becomes file-sourced;
// file-sourced mirrors it no longer lists are deleted. Without the file,
// mirrors made on the settings page are left alone. A file that does not
// parse changes nothing: its problems are kept in the store and shown on
// a failing check run until a valid file is read (runner_problems.go).
func (r *DefaultRunner) ApplyConfig(ctx context.Context, installationID, repoID int64, owner, name string) error {
	log := r.log.With(slog.Int64(logkey.InstallationID, installationID), slog.String(logkey.Repo, owner+"/"+name))
	repoM := &store.Mirror{InstallationID: installationID, GitHubRepoID: repoID, A: store.Side{Site: forge.GitHub, Owner: owner, Name: name}}
	gh, _, err := r.repoSite(ctx, repoM, forge.ScopeReadFile)
	if err != nil {
		return err
	}
	contents, ok := gh.(forge.Contents)
	if !ok {
		return failure.New(failure.Internal, "%s cannot read files", gh.Name())
	}
	repo, err := gh.GetRepo(ctx, owner, name)
	if err != nil {
		return err
	}
	// The file is read at the commit the branch names now, so that its
	// problems are reported on the very commit that has them.
	commit, err := headCommit(ctx, gh, owner, name, repo.DefaultBranch)
	if err != nil {
		return err
	}
	var entries []repoconfig.Mirror
	data, sha, err := contents.RepoFile(ctx, owner, name, repoconfig.Path, cmp.Or(commit, repo.DefaultBranch))
	switch {
	case failure.ClassOf(err) == failure.NotFound:
		sha = ""
	case err != nil:
		return err
	default:
		if entries, err = repoconfig.Parse(data); err != nil {
			r.configInvalid(ctx, log, repoM, commit, err)
			return err
		}
	}
	r.configValid(ctx, log, repoM, commit, len(entries))
	existing, err := r.cfg.Store.ListMirrors(ctx, store.MirrorFilter{InstallationID: installationID, GitHubRepoID: repoID})
	if err != nil {
		return failure.Wrap(failure.Internal, err, "cannot list the mirrors of %s/%s", owner, name)
	}
	byTarget := make(map[string]*store.Mirror, len(existing))
	for _, m := range existing {
		byTarget[strings.ToLower(m.B.FullName())] = m
	}
	keep := map[int64]bool{}
	var errs []error
	for _, e := range entries {
		m := byTarget[strings.ToLower(e.Target())]
		if m == nil {
			m = &store.Mirror{InstallationID: installationID, GitHubRepoID: repoID, A: store.Side{Site: forge.GitHub, Owner: owner, Name: name}}
			applyEntry(m, e, sha)
			if err := r.cfg.Store.CreateMirror(ctx, m); err != nil {
				errs = append(errs, fmt.Errorf("error creating mirror to %s: %w", e.Target(), err))
				continue
			}
			log.Info("mirror added from the settings file", slog.Int64(logkey.MirrorID, m.ID), slog.String(logkey.Target, m.B.FullName()))
			keep[m.ID] = true
			continue
		}
		keep[m.ID] = true
		before := *m
		applyEntry(m, e, sha)
		if SameSettings(&before, m) && before.ConfigSource == m.ConfigSource && before.ConfigSHA == m.ConfigSHA {
			continue
		}
		if err := r.cfg.Store.UpdateMirrorSettings(ctx, m); err != nil {
			errs = append(errs, fmt.Errorf("error updating mirror %d: %w", m.ID, err))
		}
	}
	for _, m := range existing {
		if keep[m.ID] || m.ConfigSource != store.SourceFile {
			continue
		}
		r.deleteHook(ctx, log, m)
		if err := r.cfg.Store.DeleteMirror(ctx, m.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			errs = append(errs, fmt.Errorf("error deleting mirror %d: %w", m.ID, err))
			continue
		}
		log.Info("mirror removed: no longer in the settings file", slog.Int64(logkey.MirrorID, m.ID), slog.String(logkey.Target, m.B.FullName()))
	}
	if err := errors.Join(errs...); err != nil {
		return failure.Wrap(failure.Internal, err, "cannot save the mirrors of %s/%s", owner, name)
	}
	return nil
}

// applyEntry copies a file entry's settings onto m.
func applyEntry(m *store.Mirror, e repoconfig.Mirror, sha string) {
	m.B = store.Side{Site: forge.Gitee, Owner: e.GiteeOwner, Name: e.GiteeName}
	m.Direction = e.Direction
	m.Branches, m.Tags, m.NoTags = e.Branches, e.Tags, e.NoTags
	m.Force, m.Prune, m.CreateMissing, m.Visibility = e.Force, e.Prune, e.CreateMissing, e.Visibility
	m.Releases, m.LFS = e.Releases, e.LFS
	m.ConfigSource, m.ConfigSHA = store.SourceFile, sha
}
