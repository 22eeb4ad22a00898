package server

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/logkey"
	"github.com/labstack/echo/v4"
)

// errorPage is the HTML form of an error, for browsers.
var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Code}} {{.Status}} · gitee-mirror</title></head>
<body><h1>{{.Code}} {{.Status}}</h1><p>{{.Message}}</p>
{{if .RequestID}}<p><small>Request id: <code>{{.RequestID}}</code></small></p>{{end}}</body></html>
`))

// handleError answers an error as JSON (or HTML for browsers). Messages of
// *echo.HTTPError are written for clients and shown; any other error is an
// internal one: logged, and answered with a bare 500 and the request id.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code, msg := http.StatusInternalServerError, "internal error"
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code = he.Code
		if m, ok := he.Message.(string); ok {
			msg = m
		} else {
			msg = http.StatusText(code)
		}
	} else {
		s.log.ErrorContext(c.Request().Context(), "error in handler", logkey.Error, err, "request_id", requestID(c),
			"path", c.Request().URL.Path)
	}
	rid := requestID(c)
	var werr error
	switch {
	case c.Request().Method == http.MethodHead:
		werr = c.NoContent(code)
	case wantsHTML(c):
		var b strings.Builder
		_ = errorPage.Execute(&b, map[string]any{"Code": code, "Status": http.StatusText(code), "Message": msg, "RequestID": rid})
		werr = c.HTML(code, b.String())
	default:
		werr = c.JSON(code, map[string]string{"error": msg, "request_id": rid})
	}
	if werr != nil {
		s.log.WarnContext(c.Request().Context(), "error writing an error response", "error", fmt.Sprint(werr))
	}
}

// wantsHTML reports whether the client prefers HTML (a browser).
func wantsHTML(c echo.Context) bool {
	accept := c.Request().Header.Get(echo.HeaderAccept)
	return strings.Contains(accept, "text/html")
}
