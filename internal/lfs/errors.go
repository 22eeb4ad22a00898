package lfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
)

// ErrNoLFS matches (errors.Is) the error of a repository whose server has
// no LFS for it: the batch endpoint answered 404, 403 or 501. Free Gitee
// accounts answer so (LFS is for paid enterprises).
var ErrNoLFS = errors.New("the repository has no Git LFS storage")

// UnavailableError is the batch endpoint's refusal that means "no LFS here".
type UnavailableError struct {
	Side   string // "source" or "target"
	URL    string // the LFS endpoint, credential-free
	Status int
	Said   string // the server's message, redacted, maybe ""
}

func (e *UnavailableError) Error() string {
	msg := fmt.Sprintf("the %s has no Git LFS storage: %s answered %d %s", e.Side, e.URL, e.Status, http.StatusText(e.Status))
	if e.Said != "" {
		msg += " (the server said: " + e.Said + ")"
	}
	return msg + "; enable LFS for the repository (on Gitee LFS needs a paid enterprise plan), or mirror without LFS objects"
}

// Is makes errors.Is(err, ErrNoLFS) true.
func (e *UnavailableError) Is(target error) bool { return target == ErrNoLFS }

// maxErrorBody bounds what is read of an error response.
const maxErrorBody = 4 << 10

// statusError classifies an HTTP error from the LFS server or its storage.
// what says which request it was ("batch", "download of <oid>"...).
func (c *Client) statusError(resp *http.Response, what string) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	said := c.redact(serverMessage(body))
	if said != "" {
		said = " (the server said: " + said + ")"
	}
	where := fmt.Sprintf("the %s's LFS %s", c.side, what)
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized:
		return failure.New(failure.Auth, "%s was refused: credentials rejected (401)%s; check the %s token", where, said, c.side)
	case code == http.StatusForbidden:
		return failure.New(failure.Permission, "%s was refused: no permission (403)%s", where, said)
	case code == http.StatusNotFound || code == http.StatusGone:
		return failure.New(failure.NotFound, "%s: not found (%d)%s", where, code, said)
	case code == http.StatusTooManyRequests:
		return failure.New(failure.RateLimited, "%s: rate limited (429)%s; will retry", where, said)
	case code == http.StatusRequestEntityTooLarge || code == http.StatusUnprocessableEntity:
		return failure.New(failure.Rejected, "%s was refused (%d %s)%s", where, code, http.StatusText(code), said)
	case code >= 500:
		return failure.New(failure.Network, "%s failed: %d %s%s", where, code, http.StatusText(code), said)
	default:
		return failure.New(failure.Internal, "%s: unexpected %d %s%s", where, code, http.StatusText(code), said)
	}
}

// serverMessage picks the "message" of an LFS JSON error body, or the first
// line of a text one, shortened.
func serverMessage(body []byte) string {
	s := strings.TrimSpace(string(body))
	if i := strings.Index(s, `"message":"`); i >= 0 {
		rest := s[i+len(`"message":"`):]
		if j := strings.IndexByte(rest, '"'); j >= 0 {
			s = rest[:j]
		}
	}
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// transportError classifies a failed round trip, without the request's URL
// (a storage link may carry a signature).
func (c *Client) transportError(ctx context.Context, err error, what string) error {
	if ctx.Err() != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return failure.Wrap(failure.Timeout, context.DeadlineExceeded, "the sync ran out of time during the %s's LFS %s", c.side, what)
		}
		return failure.Wrap(failure.Network, ctx.Err(), "the sync was cancelled")
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return failure.New(failure.Timeout, "the %s's LFS %s timed out", c.side, what)
	}
	cause := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		cause = ue.Err.Error()
	}
	return failure.New(failure.Network, "the %s's LFS %s failed: %s", c.side, what, c.redact(cause))
}
