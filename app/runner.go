package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"

	"github.com/gitee-mirror/gitee-mirror/internal/config"
	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forges"
	"github.com/gitee-mirror/gitee-mirror/internal/githubapp"
	"github.com/gitee-mirror/gitee-mirror/internal/jobs"
	"github.com/gitee-mirror/gitee-mirror/internal/settings"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// tokenHint tells people how to connect a Gitee token.
const tokenHint = "connect Gitee on the settings page (/settings/, the installation's page), or " +
	"set one with PUT /admin/installations/<installation id>/gitee-token (JSON {\"token\": \"…\"}, " +
	"authorised by " + config.EnvAdminToken + "); the token needs the scopes projects and hook"

// appState is the GitHub App's credentials: from the environment, or from
// a registration made on the pages, at the start or while the App runs.
// It is built once and handed to every part that needs the App (the
// sites, the GitHub intake, the front page), which ask it when they need
// to, so that a registration reaches them without rebuilding anything.
type appState struct {
	st  store.Store
	log *slog.Logger
	// base is the configuration as loaded; cfg is read by other goroutines
	// and never written after the start.
	base config.Config

	mu        sync.Mutex
	transport *githubapp.AppTransport // nil: not configured
	secret    []byte
	missing   []string
}

// newAppState parses the App's key once; without credentials the App still
// starts, and its front page says what to set.
func newAppState(cfg *config.Config, st store.Store, log *slog.Logger) (*appState, error) {
	a := &appState{st: st, log: log, base: *cfg, secret: []byte(cfg.WebhookSecret.Reveal()), missing: cfg.MissingApp()}
	if len(a.missing) > 0 {
		log.Warn("GitHub App credentials missing: GitHub deliveries are refused until they are set; the front page says how", "missing", a.missing)
		return a, nil
	}
	t, err := githubapp.NewAppTransport(cfg.AppID, []byte(cfg.PrivateKey.Reveal()), githubapp.AppOptions{APIURL: cfg.GitHubAPIURL})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", config.EnvPrivateKey, err)
	}
	a.transport = t
	return a, nil
}

// Transport is the App's transport, or an error saying what to configure.
func (a *appState) Transport() (*githubapp.AppTransport, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.transport == nil {
		return nil, failure.New(failure.Invalid, "the GitHub App is not configured: set %s and restart", strings.Join(a.missing, ", "))
	}
	return a.transport, nil
}

// WebhookSecret implements server.AppState.
func (a *appState) WebhookSecret() []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.secret
}

// Configured implements server.AppState.
func (a *appState) Configured() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.transport != nil
}

// Registered reads a one-click registration the pages just stored and
// starts using its credentials.
func (a *appState) Registered(ctx context.Context) error {
	reg, err := settings.LoadRegistration(ctx, a.st)
	if err != nil {
		return fmt.Errorf("error reading the registration back: %w", err)
	}
	if reg == nil {
		return fmt.Errorf("error reading the registration back: %w", store.ErrNotFound)
	}
	t, err := githubapp.NewAppTransport(reg.AppID, []byte(reg.PrivateKey), githubapp.AppOptions{APIURL: a.base.GitHubAPIURL})
	if err != nil {
		return fmt.Errorf("the registered App's private key: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.transport, a.secret, a.missing = t, []byte(reg.WebhookSecret), nil
	return nil
}

// slug asks GitHub for the App's slug (GET /app) until it knows it.
func (a *appState) slug() func(context.Context) string {
	var mu sync.Mutex
	known := ""
	return func(ctx context.Context) string {
		mu.Lock()
		defer mu.Unlock()
		if known != "" {
			return known
		}
		t, err := a.Transport()
		if err != nil {
			return ""
		}
		app, _, err := t.Apps().Apps.Get(ctx, "")
		if err != nil {
			a.log.WarnContext(ctx, "error asking GitHub for the App's slug", "error", err)
			return ""
		}
		known = app.GetSlug()
		return known
	}
}

// newRunner returns the runner of sync and config jobs over the sites.
func newRunner(cfg *config.Config, st store.Store, sites *forges.Sites, log *slog.Logger) (*jobs.DefaultRunner, error) {
	r, err := jobs.NewRunner(jobs.RunnerConfig{
		Store: st, Sites: sites, Logger: log,
		CacheDir:  filepath.Join(cfg.DataDir, "cache"),
		TokenHint: tokenHint,
		BaseURL:   cfg.PublicURL,
	})
	if err != nil {
		return nil, fmt.Errorf("error creating the sync runner: %w", err)
	}
	return r, nil
}
