package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gitee-mirror/gitee-mirror/internal/jobs"
	"github.com/gitee-mirror/gitee-mirror/internal/logkey"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// adminPauseReason is shown for a pause without a reason given.
const adminPauseReason = "paused by an administrator"

// mirrorView is a mirror as the admin endpoints show it: never its hook
// secret.
type mirrorView struct {
	ID              int64     `json:"id"`
	InstallationID  int64     `json:"installation_id"`
	GitHub          string    `json:"github"`
	Gitee           string    `json:"gitee"`
	Direction       string    `json:"direction"`
	Status          string    `json:"status"`
	Paused          bool      `json:"paused"`
	PausedReason    string    `json:"paused_reason,omitempty"`
	LastError       string    `json:"last_error,omitempty"`
	LastErrorClass  string    `json:"last_error_class,omitempty"`
	LastSyncAt      time.Time `json:"last_sync_at,omitzero"`
	GiteeWebhookURL string    `json:"gitee_webhook_url"`
	// Progress of the running sync, from whichever replica runs it.
	Progress *progressView `json:"progress,omitempty"`
}

// progressView is a running sync's progress (store.SyncProgress).
type progressView struct {
	Phase          string  `json:"phase"`
	Objects        int64   `json:"objects"`
	ReceivedBytes  int64   `json:"received_bytes"`
	SentBytes      int64   `json:"sent_bytes"`
	BytesPerSecond float64 `json:"bytes_per_second"`
	ElapsedSeconds float64 `json:"elapsed_seconds"`
	Remote         string  `json:"remote,omitempty"`
	Text           string  `json:"text"`
}

// progress is m's running sync's progress, nil when none is stored.
func (s *Server) progress(c echo.Context, m *store.Mirror) *progressView {
	if m.Status != store.StatusSyncing {
		return nil
	}
	p, err := s.opts.Store.Progress(c.Request().Context(), m.ID)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.log.WarnContext(c.Request().Context(), "could not read a sync's progress", logkey.MirrorID, m.ID, logkey.Error, err)
		}
		return nil
	}
	return &progressView{Phase: p.Phase, Objects: p.Objects, ReceivedBytes: p.Received, SentBytes: p.Sent,
		BytesPerSecond: p.Rate(), ElapsedSeconds: p.Elapsed().Seconds(), Remote: p.Remote, Text: jobs.ProgressText(p)}
}

func (s *Server) view(c echo.Context, m *store.Mirror) mirrorView {
	return mirrorView{
		ID: m.ID, InstallationID: m.InstallationID,
		GitHub: m.A.FullName(), Gitee: m.B.FullName(), Direction: m.Direction.Word(),
		Status: string(m.Status), Paused: m.Paused, PausedReason: m.PausedReason,
		LastError: m.LastError, LastErrorClass: m.LastErrorClass, LastSyncAt: m.LastSyncAt,
		GiteeWebhookURL: m.HookURL(s.baseURL(c)),
		Progress:        s.progress(c, m),
	}
}

// listMirrors lists every mirror.
func (s *Server) listMirrors(c echo.Context) error {
	ms, err := s.opts.Store.ListMirrors(c.Request().Context(), store.MirrorFilter{})
	if err != nil {
		return err
	}
	views := make([]mirrorView, 0, len(ms))
	for _, m := range ms {
		views = append(views, s.view(c, m))
	}
	return c.JSON(http.StatusOK, views)
}

// syncMirror asks for a sync now. A mirror paused after failures is
// resumed; one paused by a person stays paused (409).
func (s *Server) syncMirror(c echo.Context) error {
	m, err := s.mirror(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if err := s.opts.Queue.RequestSync(ctx, m.ID, store.TriggerManual, true); err != nil {
		s.log.ErrorContext(ctx, "error requesting sync", logkey.MirrorID, m.ID, logkey.Error, err)
		return echo.NewHTTPError(http.StatusServiceUnavailable, "the queue cannot take the request now; try again")
	}
	if m, err = s.opts.Store.GetMirror(ctx, m.ID); err != nil {
		return err
	}
	if m.Paused {
		return echo.NewHTTPError(http.StatusConflict,
			fmt.Sprintf("mirror %d is paused (%s): POST /admin/mirrors/%d/resume first", m.ID, m.PausedReason, m.ID))
	}
	s.log.InfoContext(ctx, "sync requested by an administrator", logkey.MirrorID, m.ID)
	return c.JSON(http.StatusAccepted, s.view(c, m))
}

// pauseMirror pauses a mirror, with an optional JSON {"reason": "…"}.
func (s *Server) pauseMirror(c echo.Context) error {
	m, err := s.mirror(c)
	if err != nil {
		return err
	}
	var body struct {
		Reason string `json:"reason"`
	}
	if err := json.NewDecoder(c.Request().Body).Decode(&body); err != nil && !errors.Is(err, io.EOF) {
		if tooLarge(err) {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "the body is too large")
		}
		return echo.NewHTTPError(http.StatusBadRequest, `the body must be empty or JSON {"reason": "…"}`)
	}
	if body.Reason == "" {
		body.Reason = adminPauseReason
	}
	ctx := c.Request().Context()
	if err := s.opts.Store.SetPaused(ctx, m.ID, true, body.Reason); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "mirror paused by an administrator", logkey.MirrorID, m.ID)
	return s.respondMirror(c, m.ID, http.StatusOK)
}

// resumeMirror resumes a mirror and asks for a sync to catch up.
func (s *Server) resumeMirror(c echo.Context) error {
	m, err := s.mirror(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if err := s.opts.Store.SetPaused(ctx, m.ID, false, ""); err != nil {
		return err
	}
	if err := s.opts.Queue.RequestSync(ctx, m.ID, store.TriggerManual, true); err != nil {
		s.log.ErrorContext(ctx, "error requesting sync", logkey.MirrorID, m.ID, logkey.Error, err)
		return echo.NewHTTPError(http.StatusServiceUnavailable, "resumed, but the queue cannot take a sync now: POST …/sync later")
	}
	s.log.InfoContext(ctx, "mirror resumed by an administrator", logkey.MirrorID, m.ID)
	return s.respondMirror(c, m.ID, http.StatusOK)
}

func (s *Server) respondMirror(c echo.Context, id int64, code int) error {
	m, err := s.opts.Store.GetMirror(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(code, s.view(c, m))
}

// mirror loads the mirror named by the :id path parameter.
func (s *Server) mirror(c echo.Context) (*store.Mirror, error) {
	id, err := pathID(c)
	if err != nil {
		return nil, err
	}
	m, err := s.opts.Store.GetMirror(c.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("no mirror %d", id))
	}
	return m, err
}

// pathID parses the :id path parameter.
func pathID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, echo.NewHTTPError(http.StatusBadRequest, "the id in the path must be a positive number")
	}
	return id, nil
}
