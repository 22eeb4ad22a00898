package mirror

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/go-git/go-git/v5/plumbing/format/pktline"
)

// transportError classifies a failed HTTP round trip.
func (r *remote) transportError(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, errCrossHostRedirect):
		return failure.Wrap(failure.Invalid, errCrossHostRedirect,
			"%s %s redirected to another host; use the repository's final URL", r.side, r.url)
	case ctx.Err() != nil:
		return r.contextError(ctx)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return failure.New(failure.Timeout, "%s %s did not answer in time", r.side, r.url)
	}
	return failure.New(failure.Network, "cannot reach %s %s: %s", r.side, r.url, r.redact(rootCause(err)))
}

func (r *remote) contextError(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return failure.Wrap(failure.Timeout, context.DeadlineExceeded,
			"the sync ran out of time talking to the %s: raise the timeout for large repositories", r.side)
	}
	return failure.Wrap(failure.Network, ctx.Err(), "the sync was cancelled")
}

// streamError classifies a failure in the middle of a response: usually a
// dropped connection.
func (r *remote) streamError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return r.contextError(ctx)
	}
	// go-git's scanner turns a pkt-line "ERR <message>" into an error: the
	// server's own refusal, not a broken connection.
	var el *pktline.ErrorLine
	if errors.As(err, &el) {
		return r.remoteError(ctx, &errRemote{msg: strings.TrimSpace(el.Text)})
	}
	return failure.New(failure.Network, "connection to %s %s broke off: %s", r.side, r.url, r.redact(rootCause(err)))
}

// remoteError classifies a message the Git server sent instead of data.
func (r *remote) remoteError(ctx context.Context, e *errRemote) error {
	msg := r.redact(e.msg)
	if strings.Contains(msg, "not our ref") {
		// The ref moved between listing and fetching: a fresh attempt fixes it.
		return failure.New(failure.Network, "%s changed during the sync (%s); will retry", r.side, msg)
	}
	return failure.New(failure.Rejected, "%s %s refused: %s", r.side, r.url, msg)
}

// statusError classifies an HTTP error status, with the server's own words.
func (r *remote) statusError(resp *http.Response, body []byte) error {
	said := r.redact(firstLine(string(body)))
	if said != "" {
		said = " (the server said: " + said + ")"
	}
	where := r.side + " " + r.url
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized:
		return failure.New(failure.Auth,
			"%s rejected the credentials%s: check that the %s token is right and not expired, and that the username fits it (Gitee needs the account's login; GitHub tokens use x-access-token)",
			where, said, r.side)
	case code == http.StatusForbidden:
		return failure.New(failure.Permission,
			"%s refused access%s: the %s token lacks permission (GitHub: contents write to push, workflows to change workflow files; Gitee: the projects scope)",
			where, said, r.side)
	case code == http.StatusNotFound:
		return failure.New(failure.NotFound,
			"%s was not found%s: check the owner and name; it may have been deleted or renamed, or the token cannot see it",
			where, said)
	case code == http.StatusTooManyRequests:
		return failure.New(failure.RateLimited, "%s is rate limiting us%s: will retry later", where, said)
	case code >= 500:
		return failure.New(failure.Network, "%s answered %d %s%s", where, code, http.StatusText(code), said)
	case code >= 300 && code < 400:
		// A client that does not follow a redirect (another host, or one
		// hop too many) hands it back as the answer.
		host := "another place"
		if loc, err := url.Parse(resp.Header.Get("Location")); err == nil && loc.Host != "" {
			host = loc.Host
		}
		return failure.New(failure.Invalid, "%s redirected to %s, which is not followed: use the repository's final URL", where, host)
	default:
		return failure.New(failure.Internal, "%s answered %d %s%s", where, code, http.StatusText(code), said)
	}
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// rootCause drops the wrapping that net/http adds (method and full URL).
func rootCause(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// redactor replaces every secret with "***" in text bound for a person.
func redactor(secrets ...string) func(string) string {
	var ss []string
	for _, s := range secrets {
		if len(s) >= 4 {
			ss = append(ss, s)
		}
	}
	return func(text string) string {
		for _, s := range ss {
			text = strings.ReplaceAll(text, s, "***")
		}
		return text
	}
}

// tooMuch reports a server that sent more than a limit allows. Such an answer
// will not change on a retry, so it is not transient.
func (r *remote) tooMuch(what string) error {
	return failure.New(failure.Rejected,
		"%s %s sent %s, which is beyond what this mirror accepts from a Git server; check that the URL names a Git repository and not something else",
		r.side, r.url, what)
}
