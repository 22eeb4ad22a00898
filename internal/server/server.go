// Package server wires the App's HTTP side with echo: routes, middleware
// (request id, panic recovery, request logging without query strings or
// credentials, body limits), an error handler that never shows internals,
// health and readiness checks, Prometheus metrics, the front page, the
// webhook intake and the admin endpoints.
package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gitee-mirror/gitee-mirror/internal/config"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/logkey"
	"github.com/gitee-mirror/gitee-mirror/internal/metrics"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/gitee-mirror/gitee-mirror/internal/webhook"
)

// adminBodyLimit caps the admin endpoints' JSON bodies.
const adminBodyLimit = "64K"

// Options are the server's dependencies.
type Options struct {
	Config *config.Config
	Store  store.Store
	Queue  webhook.Queue
	// Inbox records accepted GitHub and Gitee deliveries; Wake (nil:
	// none) tells the webhook.Forwarder that does their work.
	Inbox   store.Inbox
	Wake    func()
	Metrics *metrics.Metrics
	Logger  *slog.Logger // nil: discard
	// Sites reaches Gitee to check tokens (forge.Account); required
	// unless GiteeUser is set.
	Sites forge.Opener
	// GiteeUser checks a Gitee token and returns its login; nil: the
	// token's login on Sites' Gitee.
	GiteeUser func(ctx context.Context, token string) (login string, err error)
	// Deliveries verifies and reads Gitee's webhook deliveries (required).
	Deliveries forge.Deliveries
	// App tells the GitHub App's webhook secret and whether the App is
	// configured, from the environment or a registration made on the
	// pages since the start; nil: the Config's.
	App AppState
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	// Settings serves the pages for people under /settings (package
	// settings); nil: none.
	Settings http.Handler
	// QueueUI serves River UI under QueuePrefix, behind the admin token;
	// nil: none.
	QueueUI http.Handler
}

// Server is the App's HTTP server.
type Server struct {
	opts  Options
	cfg   *config.Config
	log   *slog.Logger
	echo  *echo.Echo
	http  *http.Server
	gitee *webhook.Gitee
}

// AppState is what the server needs to know of the GitHub App's
// credentials, which a registration on the pages may set while it runs.
type AppState interface {
	// WebhookSecret is the App's webhook secret; nil while it has none.
	WebhookSecret() []byte
	// Configured reports whether the App has credentials.
	Configured() bool
}

// configState is the AppState of a Config alone.
type configState struct{ cfg *config.Config }

func (c configState) WebhookSecret() []byte { return []byte(c.cfg.WebhookSecret.Reveal()) }
func (c configState) Configured() bool      { return c.cfg.AppConfigured() }

// New builds the server and its routes. It does not listen yet.
func New(opts Options) (*Server, error) {
	if opts.Config == nil || opts.Store == nil || opts.Queue == nil || opts.Inbox == nil || opts.Metrics == nil || opts.Deliveries == nil {
		return nil, errors.New("server: Config, Store, Queue, Inbox, Metrics and Deliveries are required")
	}
	if opts.Sites == nil && opts.GiteeUser == nil {
		return nil, errors.New("server: Sites or GiteeUser is required")
	}
	if opts.App == nil {
		opts.App = configState{opts.Config}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, cfg: opts.Config, log: opts.Logger, echo: echo.New()}
	if s.opts.GiteeUser == nil {
		s.opts.GiteeUser = s.giteeUser
	}
	e := s.echo
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(middleware.RequestID())
	e.Use(s.logRequests)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.log.ErrorContext(c.Request().Context(), "panic in handler", logkey.Error, err, "stack", string(stack),
				"request_id", requestID(c))
			return err
		},
	}))
	s.routes()
	s.http = &http.Server{
		Handler:           e,
		ReadHeaderTimeout: 10 * time.Second,
		// Bodies are capped at 25 MiB: give a slow sender time for one.
		ReadTimeout:  2 * time.Minute,
		WriteTimeout: 2 * time.Minute,
		IdleTimeout:  2 * time.Minute,
		ErrorLog:     slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// routes registers every route.
func (s *Server) routes() {
	e, cfg := s.echo, s.cfg
	e.GET("/", s.home)
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(s.opts.Metrics.Registry, promhttp.HandlerOpts{})))

	s.gitee = webhook.NewGitee(webhook.GiteeOptions{
		MaxBytes: cfg.WebhookMaxBytes, Deliveries: s.opts.Deliveries, Store: s.opts.Store,
		Inbox: s.opts.Inbox, Wake: s.opts.Wake, Metrics: s.opts.Metrics, Logger: s.log, Now: s.opts.Now,
	})
	gh := webhook.NewGitHub(webhook.GitHubOptions{
		Secret: s.opts.App.WebhookSecret, MaxBytes: cfg.WebhookMaxBytes,
		Inbox: s.opts.Inbox, Wake: s.opts.Wake, Metrics: s.opts.Metrics, Logger: s.log,
		Handlers: webhook.DefaultHandlers(s.opts.Store, s.opts.Queue),
	})
	e.POST("/webhooks/github", gh.Handle)
	e.POST(store.HookPath+":hookID", s.gitee.Handle)

	if s.opts.Settings != nil {
		pages := echo.WrapHandler(s.opts.Settings)
		e.Any("/settings", pages)
		e.Any("/settings/*", pages)
	}

	s.routeQueueUI(e)
	admin := e.Group("/admin", s.adminAuth, middleware.BodyLimit(adminBodyLimit))
	admin.GET("/mirrors", s.listMirrors)
	admin.PUT("/installations/:id/gitee-token", s.setInstallationToken)
	admin.PUT("/mirrors/:id/gitee-token", s.setMirrorToken)
	admin.POST("/mirrors/:id/sync", s.syncMirror)
	admin.POST("/mirrors/:id/pause", s.pauseMirror)
	admin.POST("/mirrors/:id/resume", s.resumeMirror)
}

// WarmWebhooks loads what the Gitee intake needs to verify deliveries
// without the main database (webhook.Gitee.Warm).
func (s *Server) WarmWebhooks(ctx context.Context) error { return s.gitee.Warm(ctx) }

// Handler is the server's HTTP handler, for tests and custom listeners.
func (s *Server) Handler() http.Handler { return s.echo }

// Serve answers requests on ln until Shutdown; it returns nil after a
// Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	if err := s.http.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops accepting connections (webhooks included) and waits for
// requests in flight, until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error { return s.http.Shutdown(ctx) }

// requestID is the request's id, as the RequestID middleware set it.
func requestID(c echo.Context) string { return c.Response().Header().Get(echo.HeaderXRequestID) }
