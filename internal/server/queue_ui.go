package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gitee-mirror/gitee-mirror/internal/config"
)

// QueuePrefix is where River UI is served (Options.QueueUI).
const QueuePrefix = "/admin/queue"

// routeQueueUI serves River UI behind the admin token.
func (s *Server) routeQueueUI(e *echo.Echo) {
	if s.opts.QueueUI == nil {
		return
	}
	ui := echo.WrapHandler(s.opts.QueueUI)
	e.Any(QueuePrefix, ui, s.queueAuth)
	e.Any(QueuePrefix+"/*", ui, s.queueAuth)
}

// queueAuth is adminAuth for a browser: besides the Bearer header it takes
// the admin token as the password of HTTP Basic authentication (any user
// name), which browsers ask for and then send with every request of River
// UI's pages.
func (s *Server) queueAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !s.cfg.AdminToken.IsSet() {
			return echo.NewHTTPError(http.StatusForbidden,
				"the queue pages are disabled: set "+config.EnvAdminToken+" (or "+config.EnvAdminToken+"_FILE) to enable them")
		}
		r := c.Request()
		got, ok := bearer(r.Header.Get(echo.HeaderAuthorization))
		if !ok {
			_, got, ok = r.BasicAuth()
		}
		if !ok || !equalSecret(got, s.cfg.AdminToken.Reveal()) {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Basic realm="gitee-mirror queue", charset="UTF-8"`)
			return echo.NewHTTPError(http.StatusUnauthorized,
				"the queue pages need the admin token: sign in with it as the password (any user name), or send Authorization: Bearer <"+config.EnvAdminToken+">")
		}
		return next(c)
	}
}
