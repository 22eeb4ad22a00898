package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/config"
	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/githubapp"
	"github.com/gitee-mirror/gitee-mirror/internal/jobs"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// tokenHint tells people how to connect a Gitee token.
const tokenHint = "connect Gitee on the settings page (/settings/, the installation's page), or " +
	"set one with PUT /admin/installations/<installation id>/gitee-token (JSON {\"token\": \"…\"}, " +
	"authorised by " + config.EnvAdminToken + "); the token needs the scopes projects and hook"

// newRunner returns the runner of sync and config jobs: the real one when
// the GitHub App is configured, else one that fails every job with what to
// configure.
func newRunner(cfg *config.Config, st store.Store, app *githubapp.AppTransport, log *slog.Logger) (jobs.Runner, error) {
	if app == nil {
		return unconfigured{missing: cfg.MissingApp()}, nil
	}
	r, err := jobs.NewRunner(jobs.RunnerConfig{
		Store: st, App: app,
		GitHubAPIURL: cfg.GitHubAPIURL, GitHubGitURL: cfg.GitHubURL,
		GiteeAPIURL: cfg.GiteeAPIURL, GiteeGitURL: cfg.GiteeURL,
		Logger:    log,
		CacheDir:  filepath.Join(cfg.DataDir, "cache"),
		TokenHint: tokenHint,
		HookURL:   hookURL(cfg),
	})
	if err != nil {
		return nil, fmt.Errorf("error creating the sync runner: %w", err)
	}
	return r, nil
}

// hookURL is where a mirror's Gitee webhook points; nil without a public
// URL (Gitee could not reach the App).
func hookURL(cfg *config.Config) func(*store.Mirror) string {
	if cfg.PublicURL == "" {
		return nil
	}
	base := strings.TrimSuffix(cfg.PublicURL, "/")
	return func(m *store.Mirror) string { return base + "/webhooks/gitee/" + m.HookID }
}

// unconfigured is the runner while GitHub App credentials are missing.
type unconfigured struct{ missing []string }

var _ jobs.Runner = unconfigured{}

func (u unconfigured) err() error {
	return failure.New(failure.Invalid, "the GitHub App is not configured: set %s and restart", strings.Join(u.missing, ", "))
}

// Sync implements jobs.Runner.
func (u unconfigured) Sync(context.Context, *store.Mirror) (*mirror.Result, error) {
	return nil, u.err()
}

// ApplyConfig implements jobs.Runner.
func (u unconfigured) ApplyConfig(context.Context, int64, int64, string, string) error {
	return u.err()
}
