package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gitee-mirror/gitee-mirror/internal/config"
)

// adminAuth lets a request through only with "Authorization: Bearer" and
// the admin token. Without a configured token the endpoints are disabled.
func (s *Server) adminAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !s.cfg.AdminToken.IsSet() {
			return echo.NewHTTPError(http.StatusForbidden,
				"the admin endpoints are disabled: set "+config.EnvAdminToken+" (or "+config.EnvAdminToken+"_FILE) to enable them")
		}
		got, ok := bearer(c.Request().Header.Get(echo.HeaderAuthorization))
		if !ok || !equalSecret(got, s.cfg.AdminToken.Reveal()) {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="gitee-mirror admin"`)
			return echo.NewHTTPError(http.StatusUnauthorized, "missing or wrong admin token: send Authorization: Bearer <"+config.EnvAdminToken+">")
		}
		return next(c)
	}
}

// bearer extracts the token of a Bearer authorization header.
func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// equalSecret compares in constant time, without leaking lengths.
func equalSecret(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}
