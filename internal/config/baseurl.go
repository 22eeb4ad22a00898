package config

import (
	"net/http"
	"strings"
)

// BaseURL is where people and sites reach the App: PublicURL when set,
// else the request's scheme and host. The scheme is https when the request
// came over TLS or a proxy in front says it did (X-Forwarded-Proto,
// X-Forwarded-Protocol, X-Forwarded-Ssl: on, X-Url-Scheme, as echo's
// Context.Scheme reads them), so that behind a TLS proxy without
// PublicURL the App still hands out https URLs. It has no trailing slash.
func (c *Config) BaseURL(r *http.Request) string {
	if c.PublicURL != "" {
		return strings.TrimSuffix(c.PublicURL, "/")
	}
	return requestScheme(r) + "://" + r.Host
}

// requestScheme is the scheme the client used.
func requestScheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	h := r.Header
	if s := h.Get("X-Forwarded-Proto"); s != "" {
		return s
	}
	if s := h.Get("X-Forwarded-Protocol"); s != "" {
		return s
	}
	if h.Get("X-Forwarded-Ssl") == "on" {
		return "https"
	}
	if s := h.Get("X-Url-Scheme"); s != "" {
		return s
	}
	return "http"
}
