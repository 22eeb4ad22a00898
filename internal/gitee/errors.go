package gitee

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
)

// maxSaid caps how much of Gitee's own message goes into an error.
const maxSaid = 300

// statusError classifies an HTTP error answer, keeping Gitee's own message.
func (c *Client) statusError(k *call, resp *http.Response, body []byte) error {
	said := c.redact(giteeMessage(body))
	suffix := ""
	if said != "" {
		suffix = "; Gitee says: " + said
	}
	d, st := k.desc(), resp.StatusCode
	switch {
	case st == http.StatusUnauthorized:
		return failure.New(failure.Auth, "%s: the Gitee token is invalid or expired: create a new personal access token at %s%s", d, c.tokenPage(), suffix)
	case st == http.StatusTooManyRequests || (st == http.StatusForbidden && isRateLimit(said)):
		return failure.New(failure.RateLimited, "%s: Gitee's rate limit was reached; try again later%s", d, suffix)
	case st == http.StatusForbidden:
		return failure.New(failure.Permission, "%s: the token may not do this to %s: it needs %s (edit the token at %s) and its account needs enough rights there%s", d, k.subject, k.scopeText(), c.tokenPage(), suffix)
	case st == http.StatusNotFound:
		return failure.New(failure.NotFound, "%s: %s was not found on Gitee: it may have been deleted or renamed, or the token cannot see it%s", d, k.subject, suffix)
	case st == http.StatusBadRequest || st == http.StatusUnprocessableEntity || st == http.StatusConflict:
		return failure.New(failure.Invalid, "%s: Gitee refused the request for %s (HTTP %d)%s", d, k.subject, st, suffix)
	case st >= 500:
		return failure.New(failure.Network, "%s: Gitee had a server error (HTTP %d); try again later%s", d, st, suffix)
	case st >= 300 && st < 400:
		return failure.New(failure.Invalid, "%s: Gitee answered with a redirect (HTTP %d) to %s, which is not followed: check the API base URL", d, st, c.redact(stripQuery(resp.Header.Get("Location"))))
	}
	return failure.New(failure.Internal, "%s: unexpected HTTP %d from Gitee%s", d, st, suffix)
}

// transportError classifies a failure to get an answer at all. The URL (which
// holds the token for GET and DELETE) is dropped from the cause.
func (c *Client) transportError(ctx context.Context, k *call, err error) error {
	if ctx.Err() != nil {
		return ctxError(k, ctx.Err())
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return failure.Wrap(failure.Timeout, c.scrub(err), "%s: Gitee did not answer in time; try again later", k.desc())
	}
	return failure.Wrap(failure.Network, c.scrub(err), "%s: could not reach Gitee at %s", k.desc(), c.base.Host)
}

// ctxError reports a request stopped by its context.
func ctxError(k *call, err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return failure.Wrap(failure.Timeout, err, "%s: ran out of time", k.desc())
	}
	return failure.Wrap(failure.Timeout, err, "%s: cancelled", k.desc())
}

// redact removes the token, in any of its encodings, from s.
func (c *Client) redact(s string) string {
	if c.token == "" {
		return s
	}
	for _, t := range []string{c.token, url.QueryEscape(c.token), url.PathEscape(c.token)} {
		s = strings.ReplaceAll(s, t, "[redacted]")
	}
	return s
}

// scrub returns err unchanged unless its text holds the token; then only a
// redacted copy of the text is kept.
func (c *Client) scrub(err error) error {
	if err == nil {
		return nil
	}
	if msg := err.Error(); c.redact(msg) != msg {
		return errors.New(c.redact(msg))
	}
	return err
}

func isRateLimit(said string) bool {
	s := strings.ToLower(said)
	return strings.Contains(s, "rate limit") || strings.Contains(s, "too many requests")
}

// stripQuery keeps scheme, host and path of a URL.
func stripQuery(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "an unparsable location"
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return u.String()
}

// giteeMessage extracts Gitee's explanation from an error body: {"message":
// ...}, {"messages": [...]}, {"error": ..., "error_description": ...}, or
// short plain text. HTML pages are left out.
func giteeMessage(body []byte) string {
	var m struct {
		Message          any      `json:"message"`
		Messages         []string `json:"messages"`
		Error            any      `json:"error"`
		ErrorDescription string   `json:"error_description"`
	}
	text := strings.TrimSpace(string(body))
	if text == "" {
		return ""
	}
	if err := json.Unmarshal(body, &m); err != nil {
		if strings.HasPrefix(text, "<") {
			return ""
		}
		return clip(oneLine(text))
	}
	var parts []string
	for _, v := range []any{m.Message, m.Error} {
		if s := anyText(v); s != "" {
			parts = append(parts, s)
		}
	}
	parts = append(parts, m.Messages...)
	if m.ErrorDescription != "" {
		parts = append(parts, m.ErrorDescription)
	}
	return clip(oneLine(strings.Join(parts, "; ")))
}

func anyText(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	default:
		b, _ := json.Marshal(t)
		return string(b)
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func clip(s string) string {
	if len(s) <= maxSaid {
		return s
	}
	cut := maxSaid
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s…", s[:cut])
}
