package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gitee-mirror/gitee-mirror/internal/config"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
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

// newPages builds the settings pages. A one-click registration reaches the
// App through app.Registered.
func newPages(cfg *config.Config, st store.Store, queue settings.Queue, app *appState, sites forge.Opener, log *slog.Logger, hc *http.Client) (*settings.Handler, error) {
	h, err := settings.New(settings.Options{
		Config: cfg, Store: st, Queue: queue, Sites: sites, Logger: log, HTTPClient: hc, SessionKey: cfg.SecretKeyBytes(),
		AppSlug: app.slug(), OnRegistered: app.Registered,
	})
	if err != nil {
		return nil, fmt.Errorf("error building the settings pages: %w", err)
	}
	return h, nil
}
