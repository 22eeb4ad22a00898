package gitee

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
)

// Webhook delivery headers and event names.
const (
	HeaderToken     = "X-Gitee-Token"
	HeaderTimestamp = "X-Gitee-Timestamp"
	HeaderEvent     = "X-Gitee-Event"
	HeaderPing      = "X-Gitee-Ping"

	EventPush    = "Push Hook"
	EventTagPush = "Tag Push Hook"
)

// DefaultWebhookWindow is how far X-Gitee-Timestamp may be from now when
// VerifyWebhook is given no window. Gitee's docs allow an hour; a tighter
// window narrows replays.
const DefaultWebhookWindow = 5 * time.Minute

// SignWebhook computes Gitee's signature-mode token for a timestamp (the
// X-Gitee-Timestamp text, milliseconds): base64(HMAC-SHA256(key = secret,
// message = timestamp + "\n" + secret)).
func SignWebhook(secret, timestamp string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp + "\n" + secret))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// VerifyWebhook checks that a delivery comes from a Gitee webhook with this
// secret, in either mode:
//
//   - password mode: X-Gitee-Token equals the secret;
//   - signature mode: X-Gitee-Token is SignWebhook(secret, X-Gitee-Timestamp),
//     plain or URL-encoded, and the timestamp lies within window of now
//     (window <= 0 means DefaultWebhookWindow).
//
// Comparisons take constant time. The body is not signed by Gitee in either
// mode: treat a verified delivery as a hint only. Errors are *failure.Error:
// failure.Auth for a delivery to refuse, failure.Invalid for an empty secret.
// They never contain the secret or the token header.
func VerifyWebhook(secret string, h http.Header, now time.Time, window time.Duration) error {
	if secret == "" {
		return failure.New(failure.Invalid, "no Gitee webhook secret is configured: every delivery is refused")
	}
	tok := h.Get(HeaderToken)
	if tok == "" {
		return failure.New(failure.Auth, "the delivery has no %s header: set a password or signing key on the Gitee webhook", HeaderToken)
	}
	if equalHashed(tok, secret) {
		return nil
	}
	ts := strings.TrimSpace(h.Get(HeaderTimestamp))
	if ts == "" {
		return failure.New(failure.Auth, "%s does not match the webhook password, and there is no %s for signature mode", HeaderToken, HeaderTimestamp)
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return failure.New(failure.Auth, "%s is not a time in milliseconds", HeaderTimestamp)
	}
	if window <= 0 {
		window = DefaultWebhookWindow
	}
	skew := now.Sub(time.UnixMilli(ms))
	if skew < 0 {
		skew = -skew
	}
	if skew > window {
		return failure.New(failure.Auth, "the delivery's %s is %s away from now, more than the %s allowed: a stale or replayed delivery, or a wrong clock", HeaderTimestamp, skew.Round(time.Second), window)
	}
	want := []byte(SignWebhook(secret, ts))
	ok := hmac.Equal([]byte(tok), want)
	if strings.Contains(tok, "%") {
		if dec, err := url.PathUnescape(tok); err == nil {
			ok = hmac.Equal([]byte(dec), want) || ok
		}
	}
	if !ok {
		return failure.New(failure.Auth, "%s matches neither the webhook password nor its signature: check the webhook secret", HeaderToken)
	}
	return nil
}

// equalHashed compares two secrets in constant time, without leaking their
// lengths.
func equalHashed(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// IsPing reports whether a delivery is a test delivery (X-Gitee-Ping: true),
// which should be verified and answered but not acted on.
func IsPing(h http.Header) bool {
	return strings.EqualFold(strings.TrimSpace(h.Get(HeaderPing)), "true")
}

// Event returns the delivery's X-Gitee-Event, e.g. EventPush.
func Event(h http.Header) string { return strings.TrimSpace(h.Get(HeaderEvent)) }
