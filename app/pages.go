package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"

	"github.com/gitee-mirror/gitee-mirror/internal/config"
	"github.com/gitee-mirror/gitee-mirror/internal/githubapp"
	"github.com/gitee-mirror/gitee-mirror/internal/jobs"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/server"
	"github.com/gitee-mirror/gitee-mirror/internal/settings"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// useRegistration fills the App's credentials from a registration made on
// the pages when the environment gives none. It runs before anything reads
// cfg; the environment wins over the store.
func useRegistration(ctx context.Context, cfg *config.Config, st store.Store, log *slog.Logger) error {
	if cfg.AppID != 0 || cfg.PrivateKey.IsSet() {
		return nil
	}
	reg, err := settings.LoadRegistration(ctx, st)
	if err != nil {
		return fmt.Errorf("error reading the registered GitHub App: %w", err)
	}
	if reg == nil {
		return nil
	}
	cfg.AppID, cfg.PrivateKey = reg.AppID, config.Secret(reg.PrivateKey)
	if !cfg.WebhookSecret.IsSet() {
		cfg.WebhookSecret = config.Secret(reg.WebhookSecret)
	}
	if cfg.OAuthClientID == "" {
		cfg.OAuthClientID, cfg.OAuthClientSecret = reg.ClientID, config.Secret(reg.ClientSecret)
	}
	log.Info("using the GitHub App registered from the front page", "app_id", reg.AppID, "slug", reg.Slug)
	return nil
}

// swapRunner is the queue's runner, replaced when the App is registered
// while the server runs.
type swapRunner struct{ r atomic.Pointer[jobs.Runner] }

var _ jobs.Runner = (*swapRunner)(nil)

func newSwapRunner(r jobs.Runner) *swapRunner {
	s := &swapRunner{}
	s.r.Store(&r)
	return s
}

func (s *swapRunner) use(r jobs.Runner) { s.r.Store(&r) }

// Sync implements jobs.Runner.
func (s *swapRunner) Sync(ctx context.Context, m *store.Mirror) (*mirror.Result, error) {
	return (*s.r.Load()).Sync(ctx, m)
}

// ApplyConfig implements jobs.Runner.
func (s *swapRunner) ApplyConfig(ctx context.Context, installationID, repoID int64, owner, name string) error {
	return (*s.r.Load()).ApplyConfig(ctx, installationID, repoID, owner, name)
}

// appSlug asks GitHub for the App's slug (GET /app) until it knows it.
func appSlug(app *githubapp.AppTransport, log *slog.Logger) func(context.Context) string {
	if app == nil {
		return nil
	}
	var known atomic.Pointer[string]
	return func(ctx context.Context) string {
		if s := known.Load(); s != nil {
			return *s
		}
		a, _, err := app.Apps().Apps.Get(ctx, "")
		if err != nil {
			log.WarnContext(ctx, "error asking GitHub for the App's slug", "error", err)
			return ""
		}
		slug := a.GetSlug()
		known.Store(&slug)
		return slug
	}
}

// newPages builds the settings pages. After a one-click registration they
// switch the runner and the GitHub intake to the new credentials.
func newPages(cfg *config.Config, st store.Store, queue settings.Queue, runner *swapRunner, app *githubapp.AppTransport, srv func() *server.Server, log *slog.Logger, hc *http.Client) (*settings.Handler, error) {
	// cfg is read by other goroutines from here on: registration works on a
	// copy.
	base := *cfg
	return settings.New(settings.Options{
		Config: cfg, Store: st, Queue: queue, Logger: log, HTTPClient: hc, SessionKey: cfg.SecretKeyBytes(),
		AppSlug: appSlug(app, log),
		OnRegistered: func(ctx context.Context) error {
			reg, err := settings.LoadRegistration(ctx, st)
			if err != nil || reg == nil {
				return fmt.Errorf("error reading the registration back: %v", err)
			}
			app, err := githubapp.NewAppTransport(reg.AppID, []byte(reg.PrivateKey), githubapp.AppOptions{APIURL: base.GitHubAPIURL})
			if err != nil {
				return fmt.Errorf("the registered App's private key: %w", err)
			}
			r, err := newRunner(&base, st, app, log)
			if err != nil {
				return err
			}
			runner.use(r)
			srv().UseWebhookSecret([]byte(reg.WebhookSecret))
			return nil
		},
	})
}
