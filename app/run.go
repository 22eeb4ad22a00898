package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/config"
	"github.com/gitee-mirror/gitee-mirror/internal/forges"
	"github.com/gitee-mirror/gitee-mirror/internal/jobs"
	"github.com/gitee-mirror/gitee-mirror/internal/metrics"
	"github.com/gitee-mirror/gitee-mirror/internal/secret"
	"github.com/gitee-mirror/gitee-mirror/internal/server"
	"github.com/gitee-mirror/gitee-mirror/internal/webhook"
)

// httpShutdownTimeout bounds the wait for requests in flight on shutdown;
// webhook requests answer in milliseconds.
const httpShutdownTimeout = 10 * time.Second

// env is what run takes from the process, so tests can give their own.
type env struct {
	Getenv func(string) string
	// Environ lists the variables (os.Environ), to report unknown
	// GITEE_MIRROR_* names; nil: none are checked.
	Environ func() []string
	Log     io.Writer
	// OnListen, when set, learns the listening address (tests listen on
	// port 0).
	OnListen func(net.Addr)
}

// run starts the App and serves until ctx ends, then shuts down in order:
// stop taking requests (webhooks included), stop the queue (running syncs
// finish, or go back to the queue when they take longer than the shutdown
// timeout), close the database.
func run(ctx context.Context, e env) (err error) {
	cfg, err := config.Load(e.Getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	log := newLogger(cfg, e.Log)
	log.Info("starting gitee-mirror", "config", cfg)
	warnConfig(cfg, e.Environ, log)

	box, err := newBox(cfg, log)
	if err != nil {
		return err
	}
	db, err := openDatabase(ctx, cfg, box)
	if err != nil {
		return fmt.Errorf("error opening the database: %w", err)
	}
	defer func() { err = errors.Join(err, db.close()) }()
	st, inbox := db.store, db.inbox

	// Each part once, in order: the App's credentials, the sites, the
	// runner, the queue, the forwarder, the pages, the server.
	if err := useRegistration(ctx, cfg, st, log); err != nil {
		return err
	}
	app, err := newAppState(cfg, st, log)
	if err != nil {
		return err
	}
	sites := forges.New(forges.Config{GitHubAPIURL: cfg.GitHubAPIURL, GitHubGitURL: cfg.GitHubURL,
		GiteeAPIURL: cfg.GiteeAPIURL, GiteeGitURL: cfg.GiteeURL, App: app.Transport})
	hc := &http.Client{Timeout: 30 * time.Second, CheckRedirect: sameHostRedirects}
	// People wait for the pages' and admin endpoints' Gitee calls: fewer
	// tries there.
	quickSites := forges.New(forges.Config{GitHubAPIURL: cfg.GitHubAPIURL, GitHubGitURL: cfg.GitHubURL,
		GiteeAPIURL: cfg.GiteeAPIURL, GiteeGitURL: cfg.GiteeURL, HTTPClient: hc, GiteeAttempts: 2, App: app.Transport})
	m := metrics.New()
	runner, err := newRunner(cfg, st, sites, log)
	if err != nil {
		return err
	}
	queue, err := jobs.New(ctx, jobs.Config{
		DB: db.jobs, Store: st, Runner: runner, Logger: log, Metrics: m,
		MaxFailures: cfg.MaxFailures, SyncTimeout: cfg.SyncTimeout, ReconcileInterval: cfg.ReconcileInterval,
		SyncSpacing: offIfZero(cfg.SyncSpacing), StartInterval: offIfZero(cfg.SyncStartInterval),
		LeaseTTL: cfg.LeaseTTL, LeaseRenew: cfg.LeaseRenew,
	})
	if err != nil {
		return fmt.Errorf("error creating the job queue: %w", err)
	}
	fwd := webhook.NewForwarder(webhook.ForwarderOptions{
		Inbox: inbox, Handlers: webhook.ForwardHandlers(st, queue), Syncs: queue, Metrics: m, Logger: log,
	})
	pages, err := newPages(cfg, st, queue, app, quickSites, log, hc)
	if err != nil {
		return err
	}
	if err := pages.AnnounceSetupCode(ctx); err != nil {
		return fmt.Errorf("error reading the registered GitHub App: %w", err)
	}
	uiCtx, stopUI := context.WithCancel(ctx)
	defer stopUI() // before the database closes
	queueUI, err := startQueueUI(uiCtx, cfg, db.jobs, log)
	if err != nil {
		return err
	}
	srv, err := server.New(server.Options{
		Config: cfg, Store: st, Queue: queue, Inbox: inbox, Wake: fwd.Wake, Metrics: m, Logger: log,
		Sites: quickSites, Deliveries: forges.Deliveries(), App: app, Settings: pages, QueueUI: queueUI,
	})
	if err != nil {
		return fmt.Errorf("error building the HTTP server: %w", err)
	}
	if err := srv.WarmWebhooks(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("error listening on %s (%s): %w", cfg.ListenAddr, config.EnvListenAddr, err)
	}
	defer ln.Close() // after a Shutdown, a second close is harmless

	// The queue gets a context of its own, cancelled only after the server
	// has stopped: webhooks in flight can still enqueue.
	queueCtx, stopQueueCtx := context.WithCancel(context.WithoutCancel(ctx))
	defer stopQueueCtx()
	if err := queue.Start(queueCtx); err != nil {
		return err
	}
	// The forwarder too: it stops after the server, and drains what the
	// last requests accepted before the queue stops.
	fwdCtx, stopFwd := context.WithCancel(context.WithoutCancel(ctx))
	defer stopFwd()
	bg := background{
		stopFwd: stopFwd, fwdDone: goDone(func() { fwd.Run(fwdCtx) }),
		stopQueueCtx: stopQueueCtx, pruneDone: goDone(func() { pruneDeliveries(queueCtx, inbox, log) }),
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "app_configured", cfg.AppConfigured())
	if e.OnListen != nil {
		e.OnListen(ln.Addr())
	}

	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err = <-served:
		log.Error("server stopped", "error", err)
	}
	return errors.Join(err, shutdown(ctx, cfg, log, srv, fwd, queue, bg))
}

// background are the App's goroutines besides the server and the queue:
// how to stop each, and when it has.
type background struct {
	stopFwd, stopQueueCtx func()
	fwdDone, pruneDone    <-chan struct{}
}

// goDone runs fn in a goroutine and returns a channel closed when it ends.
func goDone(fn func()) <-chan struct{} {
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	return done
}

// shutdown stops the server, then the forwarder (after doing the work of
// every delivery accepted), then the queue.
func shutdown(ctx context.Context, cfg *config.Config, log *slog.Logger, srv *server.Server, fwd *webhook.Forwarder, queue *jobs.Queue, bg background) error {
	var errs []error
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), httpShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(hctx); err != nil {
		errs = append(errs, fmt.Errorf("error stopping the HTTP server: %w", err))
	}
	qctx, qcancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer qcancel()
	bg.stopFwd()
	<-bg.fwdDone
	if err := fwd.Drain(qctx); err != nil {
		// What is left stays in the inbox for the next start.
		log.Warn("webhook deliveries left in the inbox for the next start", "error", err)
	}
	if err := queue.Stop(qctx); err != nil {
		// Syncs cut short go back to the queue; that is not a failure of
		// the shutdown itself.
		log.Warn("job queue stopped", "error", err)
	}
	bg.stopQueueCtx()
	<-bg.pruneDone
	log.Info("stopped")
	return errors.Join(errs...)
}

// newLogger builds the App's logger from the configuration.
func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// newBox returns the box that encrypts stored secrets; nil without a key
// (the store then refuses to store secrets).
func newBox(cfg *config.Config, log *slog.Logger) (*secret.Box, error) {
	key := cfg.SecretKeyBytes()
	if key == nil {
		log.Warn("no encryption key: Gitee tokens cannot be stored until " + config.EnvSecretKey + " (or _FILE) is set")
		return nil, nil
	}
	box, err := secret.NewBox(key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", config.EnvSecretKey, err)
	}
	return box, nil
}

// sameHostRedirects follows a redirect only to the host of the original
// request: the App talks to the configured hosts and nowhere else.
func sameHostRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("stopped after 5 redirects")
	}
	if req.URL.Host != via[0].URL.Host || req.URL.Scheme != via[0].URL.Scheme {
		return http.ErrUseLastResponse
	}
	return nil
}

// The forwarder passes a push's commit on to the sync it asks for.
var _ webhook.HintedQueue = (*jobs.Queue)(nil)

// offIfZero passes a duration configured as 0 ("none") to the job queue,
// which reads 0 as its default and a negative value as none.
func offIfZero(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
