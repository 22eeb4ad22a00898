package server

import (
	"context"
	"net/http"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/logkey"
	"github.com/labstack/echo/v4"
)

// healthz says the process is up.
func (s *Server) healthz(c echo.Context) error {
	return c.String(http.StatusOK, "ok\n")
}

// readyz says whether the database and the webhook inbox answer.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.opts.Store.Ping(ctx); err != nil {
		s.log.WarnContext(ctx, "not ready: the database does not answer", logkey.Error, err)
		return echo.NewHTTPError(http.StatusServiceUnavailable, "the database does not answer")
	}
	if err := s.opts.Inbox.Ping(ctx); err != nil {
		s.log.WarnContext(ctx, "not ready: the webhook inbox does not answer", logkey.Error, err)
		return echo.NewHTTPError(http.StatusServiceUnavailable, "the webhook inbox does not answer")
	}
	return c.String(http.StatusOK, "ready\n")
}
