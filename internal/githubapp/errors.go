package githubapp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v62/github"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
)

// op describes a request for the person who reads its error. The hints say
// what a status means for this request; empty hints get generic wording.
type op struct {
	what      string // "get repository o/n"
	forbidden string // 403: which permission is missing
	notFound  string // 404: what is missing
	invalid   string // 422: the likely cause
}

// Generic hints.
const (
	hintForbidden = "the token lacks a permission for this (classic token: the repo scope; " +
		"fine-grained token or GitHub App: access to the repository and the permission for this operation)"
	hintNotFound = "the repository was deleted or renamed, or the token cannot see it " +
		"(a GitHub App must be installed on it; a token needs access to private repositories)"
	hintAuth = "the token is invalid, expired or revoked: create a new one " +
		"(for a GitHub App, check the App id, the private key and the server's clock)"
)

// Classify turns an error from the go-github client returned by API into a
// *failure.Error; what names the request ("create a check run on o/n").
func (c *Client) Classify(err error, what string) error {
	return classify(err, op{what: what}, c.secrets)
}

// fail classifies err for o, scrubbing the Client's token.
func (c *Client) fail(err error, o op) error { return classify(err, o, c.secrets) }

// classify maps err to a *failure.Error. GitHub's own message is kept; every
// secret in secrets is removed from the message and from the cause's text.
func classify(err error, o op, secrets []string) error {
	if err == nil {
		return nil
	}
	return toFailure(err, o, secrets)
}

// toFailure is classify for a non-nil err.
func toFailure(err error, o op, secrets []string) *failure.Error {
	class, msg := explain(err, o)
	return &failure.Error{Class: class, Message: redact(msg, secrets), Err: scrub(err, secrets)}
}

// explain picks the class and writes the message.
func explain(err error, o op) (failure.Class, string) {
	var (
		fe    *failure.Error
		rl    *github.RateLimitError
		abuse *github.AbuseRateLimitError
		he    *ghinstallation.HTTPError
		er    *github.ErrorResponse
		acc   *github.AcceptedError
		ue    *url.Error
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return failure.Timeout, o.what + ": GitHub did not answer in time"
	case errors.Is(err, context.Canceled):
		return failure.Timeout, o.what + ": cancelled"
	case errors.As(err, &fe):
		return fe.Class, o.what + ": " + fe.Message
	case errors.As(err, &rl):
		return failure.RateLimited, fmt.Sprintf("%s: GitHub's API rate limit is used up until %s%s",
			o.what, rl.Rate.Reset.Time.UTC().Format(time.RFC3339), said(rl.Message))
	case errors.As(err, &abuse):
		wait := ""
		if abuse.RetryAfter != nil {
			wait = fmt.Sprintf(" for %s", abuse.RetryAfter.Round(time.Second))
		}
		return failure.RateLimited, fmt.Sprintf("%s: GitHub's secondary rate limit was hit: slow down%s%s",
			o.what, wait, said(abuse.Message))
	case errors.As(err, &he):
		return explainInstallation(he, o)
	case errors.As(err, &er):
		status := 0
		if er.Response != nil {
			status = er.Response.StatusCode
		}
		return explainStatus(status, githubWords(er), o)
	case errors.As(err, &acc):
		return failure.Network, o.what + ": GitHub is still preparing the answer (202): try again shortly"
	case errors.As(err, &ue):
		return failure.Network, fmt.Sprintf("%s: cannot reach GitHub at %s: check the network and the API URL", o.what, hostOf(ue.URL))
	}
	return failure.Internal, o.what + ": unexpected answer from GitHub"
}

// explainStatus maps an HTTP status of GitHub's REST API.
func explainStatus(status int, words string, o op) (failure.Class, string) {
	hint := func(h, def string) string {
		if h == "" {
			return def
		}
		return h
	}
	switch {
	case status == http.StatusUnauthorized:
		return failure.Auth, fmt.Sprintf("%s: GitHub rejected the token (401): %s%s", o.what, hintAuth, words)
	case status == http.StatusForbidden && strings.Contains(strings.ToLower(words), "rate limit"):
		return failure.RateLimited, fmt.Sprintf("%s: GitHub's rate limit was hit (403): slow down%s", o.what, words)
	case status == http.StatusForbidden:
		return failure.Permission, fmt.Sprintf("%s: not allowed (403): %s%s", o.what, hint(o.forbidden, hintForbidden), words)
	case status == http.StatusNotFound:
		return failure.NotFound, fmt.Sprintf("%s: not found (404): %s%s", o.what, hint(o.notFound, hintNotFound), words)
	case status == http.StatusGone:
		return failure.NotFound, fmt.Sprintf("%s: gone (410): it was disabled or deleted on GitHub%s", o.what, words)
	case status == http.StatusConflict, status == http.StatusUnavailableForLegalReasons:
		return failure.Rejected, fmt.Sprintf("%s: GitHub refused (%d)%s", o.what, status, words)
	case status == http.StatusUnprocessableEntity:
		return failure.Invalid, fmt.Sprintf("%s: GitHub refused the request (422): %s%s", o.what,
			hint(o.invalid, "check the names and values given"), words)
	case status == http.StatusTooManyRequests:
		return failure.RateLimited, fmt.Sprintf("%s: GitHub asks to slow down (429)%s", o.what, words)
	case status >= 500:
		return failure.Network, fmt.Sprintf("%s: GitHub had a server error (%d): try again later%s", o.what, status, words)
	case status >= 400:
		return failure.Invalid, fmt.Sprintf("%s: GitHub refused the request (%d)%s", o.what, status, words)
	}
	return failure.Internal, fmt.Sprintf("%s: unexpected answer from GitHub (%d)%s", o.what, status, words)
}

// explainInstallation maps a failure of ghinstallation to fetch the
// installation's token (the request itself never left).
func explainInstallation(he *ghinstallation.HTTPError, o op) (failure.Class, string) {
	if he.Response == nil {
		return failure.Network, fmt.Sprintf("%s: cannot reach GitHub to get installation %d's token", o.what, he.InstallationID)
	}
	switch s := he.Response.StatusCode; {
	case s == http.StatusUnauthorized:
		return failure.Auth, fmt.Sprintf("%s: GitHub rejected the App's JWT (401): check the App id, the private key and the server's clock", o.what)
	case s == http.StatusForbidden:
		return failure.Permission, fmt.Sprintf("%s: GitHub refused a token for installation %d (403): the installation may be suspended", o.what, he.InstallationID)
	case s == http.StatusNotFound:
		return failure.NotFound, fmt.Sprintf("%s: installation %d not found (404): the App was uninstalled, or the App id does not match", o.what, he.InstallationID)
	case s >= 500:
		return failure.Network, fmt.Sprintf("%s: GitHub had a server error (%d) minting installation %d's token: try again later", o.what, s, he.InstallationID)
	default:
		return explainStatus(s, "", o)
	}
}

// githubWords renders GitHub's own message and field errors.
func githubWords(er *github.ErrorResponse) string {
	parts := []string{}
	if er.Message != "" {
		parts = append(parts, er.Message)
	}
	for _, e := range er.Errors {
		switch {
		case e.Message != "":
			parts = append(parts, e.Message)
		case e.Code != "":
			parts = append(parts, strings.TrimSpace(e.Field+" "+e.Code))
		}
	}
	return said(strings.Join(parts, "; "))
}

// said quotes GitHub's words, if any.
func said(msg string) string {
	if msg == "" {
		return ""
	}
	return fmt.Sprintf(" (GitHub: %q)", msg)
}

func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return u.Host
	}
	return "the API URL"
}

// redact removes every secret from s. Very short strings are left alone:
// blanking them would mangle messages and they are no real token.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
	}
	return s
}

// scrub returns err, or a wrapper around it whose text has the secrets
// removed; errors.As and errors.Is still reach err.
func scrub(err error, secrets []string) error {
	s := err.Error()
	if r := redact(s, secrets); r != s {
		return &scrubbed{text: r, err: err}
	}
	return err
}

type scrubbed struct {
	text string
	err  error
}

func (s *scrubbed) Error() string { return s.text }
func (s *scrubbed) Unwrap() error { return s.err }
