package webhook

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/logkey"
	"github.com/gitee-mirror/gitee-mirror/internal/metrics"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// EventGiteePush is the inbox event of a verified Gitee push delivery.
const EventGiteePush = "gitee:push"

// GiteeOptions configure the Gitee intake.
type GiteeOptions struct {
	// MaxBytes caps the body (413 beyond); 0 means DefaultMaxBytes.
	MaxBytes int64
	// Deliveries verifies and reads the site's deliveries (required).
	Deliveries forge.Deliveries
	// Store finds a mirror's hook secret on a cache miss.
	Store store.Store
	// Inbox records accepted deliveries; Wake (nil: none) tells the
	// Forwarder, which does their work with GiteePush.
	Inbox   store.Inbox
	Wake    func()
	Metrics *metrics.Metrics // nil: none
	Logger  *slog.Logger     // nil: discard
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Gitee is the intake of Gitee webhook deliveries, one URL per mirror
// (store.HookPath + hook id). Gitee signs no body and sends no delivery id:
// a verified delivery only asks for a sync, which coalesces with others.
//
// Like GitHub's, a delivery is acknowledged once the inbox has it, never
// waiting for the main database: the hook secrets are kept in memory
// (Warm loads them at start), and the database is read only for a hook id
// the cache does not know or whose secret did not match (it may have been
// replaced since).
type Gitee struct {
	opts GiteeOptions
	log  *slog.Logger

	mu    sync.Mutex
	hooks map[string]hookEntry // by hook id
}

// hookEntry is what a delivery to a mirror's hook needs: never more.
type hookEntry struct {
	mirrorID, installationID int64
	repo                     string // side A
	secret                   string
	fromB                    bool
}

func entryOf(m *store.Mirror) hookEntry {
	return hookEntry{mirrorID: m.ID, installationID: m.InstallationID, repo: m.A.FullName(),
		secret: m.HookSecret, fromB: m.Direction.FromB()}
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
	return &Gitee{opts: opts, log: log, hooks: map[string]hookEntry{}}
}

// Warm loads the hook secrets of every mirror, so that deliveries are
// verified without the main database.
func (g *Gitee) Warm(ctx context.Context) error {
	ms, err := g.opts.Store.ListMirrors(ctx, store.MirrorFilter{})
	if err != nil {
		return fmt.Errorf("error loading the mirrors' Gitee webhook secrets: %w", err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, m := range ms {
		if m.HookSecret != "" {
			g.hooks[m.HookID] = entryOf(m)
		}
	}
	return nil
}

// lookup returns the hook's entry: the cached one unless fresh, else the
// database's (cached for the next delivery).
func (g *Gitee) lookup(ctx context.Context, hookID string, fresh bool) (hookEntry, bool, error) {
	g.mu.Lock()
	e, ok := g.hooks[hookID]
	g.mu.Unlock()
	if ok && !fresh {
		return e, true, nil
	}
	m, err := g.opts.Store.GetMirrorByHookID(ctx, hookID)
	if errors.Is(err, store.ErrNotFound) {
		g.mu.Lock()
		delete(g.hooks, hookID)
		g.mu.Unlock()
		return hookEntry{}, false, nil
	}
	if err != nil {
		return hookEntry{}, false, err
	}
	e = entryOf(m)
	g.mu.Lock()
	g.hooks[hookID] = e
	g.mu.Unlock()
	return e, true, nil
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
	hookID := c.Param("hookID")
	e, ok, err := g.lookup(ctx, hookID, false)
	if err == nil && !ok {
		g.count("", VerdictNotFound)
		return echo.NewHTTPError(http.StatusNotFound, "no mirror has this webhook URL: it was deleted, or the URL was mistyped")
	}
	if err != nil {
		g.count("", VerdictUnavailable)
		g.log.ErrorContext(ctx, "error finding the mirror of a Gitee hook", logkey.Error, err)
		return unavailable()
	}
	verr := g.opts.Deliveries.VerifyDelivery(e.secret, req.Header, g.opts.Now())
	if verr != nil {
		// The secret may have been replaced since it was cached.
		if f, ok, err := g.lookup(ctx, hookID, true); err == nil && ok && f.secret != e.secret {
			e, verr = f, g.opts.Deliveries.VerifyDelivery(f.secret, req.Header, g.opts.Now())
		}
	}
	log := g.log.With(logkey.MirrorID, e.mirrorID, logkey.InstallationID, e.installationID, logkey.Repo, e.repo)
	if verr != nil {
		g.count("", VerdictBadSignature)
		log.WarnContext(ctx, "Gitee delivery refused", logkey.Error, verr.Error())
		return echo.NewHTTPError(http.StatusUnauthorized, "invalid Gitee webhook password or signature")
	}
	event, kind := g.opts.Deliveries.DeliveryEvent(req.Header)
	log = log.With(logkey.Event, event)
	body, err := readBody(c, g.opts.MaxBytes)
	if err != nil {
		g.count(event, verdictOf(err))
		return err
	}
	if kind == forge.PingDelivery {
		g.count(event, VerdictPing)
		log.InfoContext(ctx, "Gitee ping")
		return c.JSON(http.StatusOK, status("pong"))
	}
	if kind != forge.PushDelivery || !e.fromB {
		g.count(event, VerdictIgnored)
		return c.JSON(http.StatusAccepted, status(VerdictIgnored))
	}
	// The body is unsigned: it only names the ref for the log, and the
	// sync re-reads every ref itself.
	ref := g.opts.Deliveries.PushedRef(body)
	payload, err := json.Marshal(giteePush{MirrorID: e.mirrorID, InstallationID: e.installationID, Repo: e.repo, Ref: ref})
	if err != nil {
		return fmt.Errorf("error encoding a Gitee delivery: %w", err)
	}
	id, err := deliveryID()
	if err != nil {
		g.count(event, VerdictUnavailable)
		return unavailable()
	}
	if _, err := g.opts.Inbox.Accept(ctx, &store.Delivery{Source: SourceGitee, ID: id, Event: EventGiteePush, Payload: payload}); err != nil {
		g.count(event, VerdictUnavailable)
		log.ErrorContext(ctx, "error recording a Gitee delivery", logkey.Error, err)
		return unavailable()
	}
	if g.opts.Wake != nil {
		g.opts.Wake()
	}
	g.count(event, VerdictAccepted)
	log.InfoContext(ctx, "sync requested", logkey.Ref, ref)
	return c.JSON(http.StatusOK, status(VerdictAccepted))
}

// deliveryID names a Gitee delivery in the inbox: Gitee sends none.
func deliveryID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

func (g *Gitee) count(event, verdict string) {
	if event == "" {
		event = "unknown"
	}
	countWebhook(g.opts.Metrics, SourceGitee, event, verdict)
}

// giteePush is the inbox payload of a verified Gitee push: no secret.
type giteePush struct {
	MirrorID       int64  `json:"mirror_id"`
	InstallationID int64  `json:"installation_id"`
	Repo           string `json:"repo"`
	Ref            string `json:"ref,omitempty"`
}

// GiteePush does the work of accepted Gitee push deliveries in the
// Forwarder: a sync request of the mirror, resuming it when paused after
// failures.
type GiteePush struct {
	Queue Queue
}

var _ EventHandler = (*GiteePush)(nil)

// Events implements EventHandler.
func (*GiteePush) Events() []string { return []string{EventGiteePush} }

// Parse implements EventHandler.
func (h *GiteePush) Parse(_ string, payload []byte) (*Task, error) {
	var p giteePush
	if err := json.Unmarshal(payload, &p); err != nil || p.MirrorID <= 0 {
		return nil, errors.New("malformed Gitee push record")
	}
	return &Task{
		Action: "push", InstallationID: p.InstallationID, Repo: p.Repo,
		Key: "gitee-push:" + strconv.FormatInt(p.MirrorID, 10),
		Run: func(ctx context.Context, log *slog.Logger) error {
			err := h.Queue.RequestSync(ctx, p.MirrorID, store.TriggerGiteePush, true)
			if errors.Is(err, store.ErrNotFound) {
				log.InfoContext(ctx, "Gitee push for a mirror deleted since; nothing to sync", logkey.MirrorID, p.MirrorID)
				return nil
			}
			if err != nil {
				return fmt.Errorf("error requesting a sync of mirror %d: %w", p.MirrorID, err)
			}
			log.InfoContext(ctx, "sync requested", logkey.MirrorID, p.MirrorID, logkey.Ref, p.Ref)
			return nil
		},
		// The same request, for a Forwarder that makes those of a batch
		// together (a mirror deleted since is skipped there too).
		Syncs: func(context.Context) ([]store.SyncRequest, error) {
			return []store.SyncRequest{{MirrorID: p.MirrorID, Trigger: store.TriggerGiteePush, Resume: true}}, nil
		},
	}, nil
}

// ForwardHandlers are the handlers of the Forwarder: GitHub's events
// (DefaultHandlers) and the Gitee pushes the Gitee intake accepted.
func ForwardHandlers(st store.Store, q Queue) []EventHandler {
	return append(DefaultHandlers(st, q), &GiteePush{Queue: q})
}
