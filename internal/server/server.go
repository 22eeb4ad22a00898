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
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gitee-mirror/gitee-mirror/internal/config"
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
	// Inbox records accepted GitHub deliveries; Wake (nil: none) tells
	// the webhook.Forwarder that does their work.
	Inbox   store.Inbox
	Wake    func()
	Metrics *metrics.Metrics
	Logger  *slog.Logger // nil: discard
	// HTTPClient reaches Gitee to check tokens; nil: a client with a
	// 30 s timeout.
	HTTPClient *http.Client
	// GiteeUser checks a Gitee token and returns its login; nil: GET /user
	// on the configured Gitee API.
	GiteeUser func(ctx context.Context, token string) (login string, err error)
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
	opts Options
	cfg  *config.Config
	log  *slog.Logger
	echo *echo.Echo
	http *http.Server
	// github is the GitHub intake; UseWebhookSecret swaps it when the App
	// is registered from the pages.
	github atomic.Pointer[webhook.GitHub]
	// registered: the App got credentials after the start.
	registered atomic.Bool
}

// New builds the server and its routes. It does not listen yet.
func New(opts Options) (*Server, error) {
	if opts.Config == nil || opts.Store == nil || opts.Queue == nil || opts.Inbox == nil || opts.Metrics == nil {
		return nil, errors.New("server: Config, Store, Queue, Inbox and Metrics are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 30 * time.Second}
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
			s.log.ErrorContext(c.Request().Context(), "panic in handler", "error", err, "stack", string(stack),
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

	gt := webhook.NewGitee(webhook.GiteeOptions{
		MaxBytes: cfg.WebhookMaxBytes, Store: s.opts.Store, Queue: s.opts.Queue,
		Metrics: s.opts.Metrics, Logger: s.log, Now: s.opts.Now,
	})
	s.github.Store(s.newGitHub([]byte(cfg.WebhookSecret.Reveal())))
	e.POST("/webhooks/github", func(c echo.Context) error { return s.github.Load().Handle(c) })
	e.POST("/webhooks/gitee/:hookID", gt.Handle)

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

// UseWebhookSecret starts checking GitHub deliveries with secret, for an App
// registered while the server runs; the front page then counts the App as
// configured.
func (s *Server) UseWebhookSecret(secret []byte) {
	s.github.Store(s.newGitHub(secret))
	s.registered.Store(true)
}

// newGitHub is the GitHub intake checking deliveries with secret.
func (s *Server) newGitHub(secret []byte) *webhook.GitHub {
	return webhook.NewGitHub(webhook.GitHubOptions{
		Secret: secret, MaxBytes: s.cfg.WebhookMaxBytes,
		Inbox: s.opts.Inbox, Wake: s.opts.Wake, Metrics: s.opts.Metrics, Logger: s.log,
		Handlers: webhook.DefaultHandlers(s.opts.Store, s.opts.Queue),
	})
}

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
