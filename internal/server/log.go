package server

import (
	"log/slog"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gitee-mirror/gitee-mirror/internal/logkey"
	"github.com/gitee-mirror/gitee-mirror/internal/webhook"
)

// logRequests logs one line per request: method, path without its query
// (which may carry tokens), route, status, duration and request id. No
// header is logged but GitHub's delivery id, for correlation.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err) // writes the response, so its status is known
		}
		req, res := c.Request(), c.Response()
		attrs := []slog.Attr{
			slog.String("method", req.Method),
			slog.String("path", req.URL.Path),
			slog.String("route", c.Path()),
			slog.Int("status", res.Status),
			slog.Duration("duration", time.Since(start)),
			slog.Int64("bytes_out", res.Size),
			slog.String("request_id", requestID(c)),
		}
		if d := req.Header.Get(webhook.HeaderGitHubDelivery); d != "" && len(d) <= 64 {
			attrs = append(attrs, slog.String(logkey.DeliveryID, d))
		}
		level := slog.LevelInfo
		switch {
		case res.Status >= 500:
			level = slog.LevelError
		case c.Path() == "/healthz" || c.Path() == "/readyz" || c.Path() == "/metrics":
			level = slog.LevelDebug
		case strings.HasPrefix(c.Path(), "/webhooks/") && res.Status < 400:
			// The intake logs each delivery it takes, with its context.
			level = slog.LevelDebug
		}
		s.log.LogAttrs(req.Context(), level, "request", attrs...)
		return nil
	}
}
