package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gitee-mirror/gitee-mirror/internal/config"
	"github.com/gitee-mirror/gitee-mirror/internal/secret"
	"github.com/gitee-mirror/gitee-mirror/internal/server"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/gitee-mirror/gitee-mirror/internal/store/postgres"
	"github.com/gitee-mirror/gitee-mirror/internal/store/sqlite"
)

// database is the store, the job queue's database and the webhook inbox of
// the configured backend: an SQLite file (one App) or a Postgres database
// (several replicas).
type database struct {
	store store.Store
	jobs  store.JobDB
	inbox store.Inbox
}

// openDatabase opens the backend GITEE_MIRROR_DATABASE_URL names, migrating
// its schema.
func openDatabase(ctx context.Context, cfg *config.Config, box *secret.Box) (*database, error) {
	if cfg.DatabasePath == "" {
		var opts []postgres.Option
		if cfg.DatabasePassword.IsSet() {
			opts = append(opts, postgres.WithPassword(cfg.DatabasePassword.Reveal()))
		}
		st, err := postgres.Open(ctx, cfg.DatabaseURL, box, opts...)
		if err != nil {
			return nil, err
		}
		inbox, err := postgres.OpenInbox(ctx, cfg.DatabaseURL, opts...)
		if err != nil {
			return nil, errors.Join(err, st.Close())
		}
		return &database{store: st, jobs: st.Jobs(), inbox: inbox}, nil
	}
	st, err := sqlite.Open(ctx, cfg.DatabasePath, box)
	if err != nil {
		return nil, err
	}
	inbox, err := sqlite.OpenInbox(ctx, sqlite.InboxPath(cfg.DatabasePath))
	if err != nil {
		return nil, errors.Join(err, st.Close())
	}
	return &database{store: st, jobs: st.Jobs(), inbox: inbox}, nil
}

// close closes the inbox and the store (the queue must be stopped first).
func (d *database) close() error {
	var err error
	if cerr := d.inbox.Close(); cerr != nil {
		err = fmt.Errorf("error closing the webhook inbox: %w", cerr)
	}
	if cerr := d.store.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("error closing the database: %w", cerr))
	}
	return err
}

// startQueueUI starts River UI on the queue's database for the server to
// mount behind the admin token (none without one); it stops with ctx.
func startQueueUI(ctx context.Context, cfg *config.Config, jobs store.JobDB, log *slog.Logger) (http.Handler, error) {
	if !cfg.AdminToken.IsSet() {
		return nil, nil
	}
	ui, err := jobs.QueueUI(server.QueuePrefix, log.With(slog.String("component", "queue-ui")))
	if err != nil {
		return nil, err
	}
	if err := ui.Start(ctx); err != nil {
		return nil, fmt.Errorf("error starting the queue UI: %w", err)
	}
	return ui, nil
}
