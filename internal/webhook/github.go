package webhook

import (
	"context"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gitee-mirror/gitee-mirror/internal/logkey"
	"github.com/gitee-mirror/gitee-mirror/internal/metrics"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// GitHub headers.
const (
	HeaderGitHubEvent     = "X-GitHub-Event"
	HeaderGitHubDelivery  = "X-GitHub-Delivery"
	HeaderGitHubSignature = "X-Hub-Signature-256"
)

// taskTimeout bounds a delivery's store and queue work: GitHub gives up
// after 10 s.
const taskTimeout = 5 * time.Second

// GitHubOptions configure the GitHub intake.
type GitHubOptions struct {
	// Secret returns the App's webhook secret: from the environment, or
	// from a registration made on the pages since the start. Empty (or a
	// nil Secret) refuses every delivery.
	Secret func() []byte
	// MaxBytes caps the body (413 beyond); 0 means 25 MiB.
	MaxBytes int64
	// Inbox records accepted deliveries; Wake (nil: none) tells the
	// Forwarder that does their work.
	Inbox   store.Inbox
	Wake    func()
	Metrics *metrics.Metrics // nil: none
	Logger  *slog.Logger     // nil: discard
	// Handlers handle the events; see DefaultHandlers.
	Handlers []EventHandler
}

// GitHub is the intake of GitHub's webhook deliveries.
type GitHub struct {
	secret   func() []byte
	maxBytes int64
	inbox    store.Inbox
	wake     func()
	metrics  *metrics.Metrics
	log      *slog.Logger
	handlers map[string]EventHandler
}

// webhookSecret is the current secret; nil without one.
func (g *GitHub) webhookSecret() []byte {
	if g.secret == nil {
		return nil
	}
	return g.secret()
}

// DefaultHandlers are the handlers of the App's GitHub events.
func DefaultHandlers(st store.Store, q Queue) []EventHandler {
	return []EventHandler{
		&Push{Store: st, Queue: q},
		&Installation{Store: st, Queue: q},
		&InstallationRepositories{Store: st, Queue: q},
		&Repository{Store: st, Queue: q},
		&Release{Store: st, Queue: q},
	}
}

// NewGitHub returns the intake. Two handlers for one event are a bug and
// panic (byEvent).
func NewGitHub(opts GitHubOptions) *GitHub {
	g := &GitHub{
		secret:   opts.Secret,
		maxBytes: opts.MaxBytes,
		inbox:    opts.Inbox,
		wake:     opts.Wake,
		metrics:  opts.Metrics,
		log:      opts.Logger,
		handlers: byEvent(opts.Handlers),
	}
	if g.maxBytes <= 0 {
		g.maxBytes = DefaultMaxBytes
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.wake == nil {
		g.wake = func() {}
	}
	return g
}

// Handle is the echo handler of POST /webhooks/github.
func (g *GitHub) Handle(c echo.Context) error {
	req := c.Request()
	body, err := readBody(c, g.maxBytes)
	if err != nil {
		g.count("", verdictOf(err))
		return err
	}
	if err := VerifySignature(g.webhookSecret(), req.Header.Get(HeaderGitHubSignature), body); err != nil {
		g.count("", VerdictBadSignature)
		g.log.WarnContext(req.Context(), "GitHub delivery refused", logkey.Error, err.Error(),
			logkey.DeliveryID, clip(req.Header.Get(HeaderGitHubDelivery)))
		return echo.NewHTTPError(http.StatusUnauthorized, "invalid signature")
	}

	event, delivery := req.Header.Get(HeaderGitHubEvent), req.Header.Get(HeaderGitHubDelivery)
	log := g.log.With(logkey.DeliveryID, delivery, logkey.Event, event)
	if event == "" || delivery == "" {
		g.count(event, VerdictBadRequest)
		return echo.NewHTTPError(http.StatusBadRequest, "missing "+HeaderGitHubEvent+" or "+HeaderGitHubDelivery)
	}
	h, ok := g.handlers[event]
	if !ok {
		g.count(event, VerdictIgnored)
		log.DebugContext(req.Context(), "GitHub event ignored")
		return c.JSON(http.StatusAccepted, status(VerdictIgnored))
	}
	payload, err := jsonPayload(req.Header.Get(echo.HeaderContentType), body)
	if err != nil {
		g.count(event, VerdictBadRequest)
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	task, err := h.Parse(event, payload)
	if err != nil {
		g.count(event, VerdictBadRequest)
		log.WarnContext(req.Context(), "GitHub payload refused", logkey.Error, err.Error())
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	if task == nil {
		g.count(event, VerdictIgnored)
		log.DebugContext(req.Context(), "GitHub action ignored")
		return c.JSON(http.StatusAccepted, status(VerdictIgnored))
	}
	log = log.With(logkey.Action, task.Action, logkey.InstallationID, task.InstallationID, logkey.Repo, task.Repo)
	if task.Record != nil {
		payload = task.Record
	}
	return g.accept(c, log, event, delivery, payload)
}

// accept records the delivery in the inbox, which deduplicates it, and
// answers: its work (task.Run) is done by the Forwarder, so that the
// answer waits for one small write and nothing else.
func (g *GitHub) accept(c echo.Context, log *slog.Logger, event, delivery string, payload []byte) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), taskTimeout)
	defer cancel()
	first, err := g.inbox.Accept(ctx, &store.Delivery{Source: SourceGitHub, ID: delivery, Event: event, Payload: payload})
	if err != nil {
		g.count(event, VerdictUnavailable)
		log.ErrorContext(ctx, "error recording GitHub delivery", logkey.Error, err)
		return unavailable()
	}
	if !first {
		g.count(event, VerdictDuplicate)
		log.InfoContext(ctx, "duplicate GitHub delivery")
		return c.JSON(http.StatusOK, status(VerdictDuplicate))
	}
	g.wake()
	g.count(event, VerdictAccepted)
	log.InfoContext(ctx, "GitHub delivery accepted")
	return c.JSON(http.StatusOK, status(VerdictAccepted))
}

func (g *GitHub) count(event, verdict string) {
	if event == "" {
		event = "unknown"
	}
	countWebhook(g.metrics, SourceGitHub, event, verdict)
}

// jsonPayload returns the JSON document of a delivery: the body itself, or
// its "payload" field when the webhook was set to send forms.
func jsonPayload(contentType string, body []byte) ([]byte, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt != "application/x-www-form-urlencoded" {
		return body, nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("payload") == "" {
		return nil, errors.New("form-encoded delivery without a payload field")
	}
	return []byte(form.Get("payload")), nil
}

func unavailable() error {
	return echo.NewHTTPError(http.StatusServiceUnavailable, "cannot take the delivery now; redeliver it later")
}

// status is a response body.
func status(s string) map[string]string { return map[string]string{"status": s} }

// clip bounds an untrusted header value before it is logged.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
