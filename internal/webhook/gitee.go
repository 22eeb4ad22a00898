package webhook

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gitee-mirror/gitee-mirror/internal/gitee"
	"github.com/gitee-mirror/gitee-mirror/internal/metrics"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// GiteeOptions configure the Gitee intake.
type GiteeOptions struct {
	// MaxBytes caps the body (413 beyond); 0 means DefaultMaxBytes.
	MaxBytes int64
	// Window bounds X-Gitee-Timestamp in signature mode; 0 means
	// gitee.DefaultWebhookWindow.
	Window  time.Duration
	Store   store.Store
	Queue   Queue
	Metrics *metrics.Metrics // nil: none
	Logger  *slog.Logger     // nil: discard
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Gitee is the intake of Gitee webhook deliveries, one URL per mirror
// (/webhooks/gitee/:hookID). Gitee signs no body and sends no delivery id:
// a verified delivery only asks for a sync, which coalesces with others.
type Gitee struct {
	opts GiteeOptions
	log  *slog.Logger
}

// NewGitee returns the intake.
func NewGitee(opts GiteeOptions) *Gitee {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Gitee{opts: opts, log: log}
}

// Handle is the echo handler of POST /webhooks/gitee/:hookID.
func (g *Gitee) Handle(c echo.Context) error {
	req := c.Request()
	ctx, cancel := context.WithTimeout(req.Context(), taskTimeout)
	defer cancel()
	if req.ContentLength > g.opts.MaxBytes {
		g.count("", VerdictTooLarge)
		return tooLarge()
	}
	m, err := g.opts.Store.GetMirrorByHookID(ctx, c.Param("hookID"))
	if errors.Is(err, store.ErrNotFound) {
		g.count("", VerdictNotFound)
		return echo.NewHTTPError(http.StatusNotFound, "no mirror has this webhook URL: it was deleted, or the URL was mistyped")
	}
	if err != nil {
		g.count("", VerdictUnavailable)
		g.log.ErrorContext(ctx, "error finding the mirror of a Gitee hook", "error", err)
		return unavailable()
	}
	log := g.log.With(KeyMirrorID, m.ID, KeyInstallationID, m.InstallationID, KeyRepo, m.FullGitHubName())
	if err := gitee.VerifyWebhook(m.HookSecret, req.Header, g.opts.Now(), g.opts.Window); err != nil {
		g.count("", VerdictBadSignature)
		log.WarnContext(ctx, "Gitee delivery refused", "error", err.Error())
		return echo.NewHTTPError(http.StatusUnauthorized, "invalid Gitee webhook password or signature")
	}
	event := gitee.Event(req.Header)
	log = log.With(KeyEvent, event)
	body, err := readBody(c, g.opts.MaxBytes)
	if err != nil {
		g.count(event, verdictOf(err))
		return err
	}
	if gitee.IsPing(req.Header) {
		g.count(event, VerdictPing)
		log.InfoContext(ctx, "Gitee ping")
		return c.JSON(http.StatusOK, status("pong"))
	}
	if (event != gitee.EventPush && event != gitee.EventTagPush) || !fromGitee(m.Direction) {
		g.count(event, VerdictIgnored)
		return c.JSON(http.StatusAccepted, status(VerdictIgnored))
	}
	// The body is unsigned: it only names the ref for the log, and the
	// sync re-reads every ref itself.
	if ev, err := gitee.ParsePushHook(body); err == nil {
		log = log.With(KeyRef, ev.Ref)
	}
	if err := g.opts.Queue.RequestSync(ctx, m.ID, TriggerGiteePush, true); err != nil {
		g.count(event, VerdictUnavailable)
		log.ErrorContext(ctx, "error requesting sync", "error", err)
		return unavailable()
	}
	g.count(event, VerdictAccepted)
	log.InfoContext(ctx, "sync requested")
	return c.JSON(http.StatusOK, status(VerdictAccepted))
}

// giteeEvents bounds the event label of the metric.
var giteeEvents = map[string]bool{
	gitee.EventPush: true, gitee.EventTagPush: true,
	"Merge Request Hook": true, "Issue Hook": true, "Note Hook": true,
}

func (g *Gitee) count(event, verdict string) {
	switch {
	case event == "":
		event = "unknown"
	case !giteeEvents[event]:
		event = "other"
	}
	countWebhook(g.opts.Metrics, SourceGitee, event, verdict)
}
