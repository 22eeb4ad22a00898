package gitee

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
)

func TestSignWebhookKnownAnswer(t *testing.T) {
	t.Parallel()
	// The vector of a public Java implementation of Gitee's documented
	// algorithm (secret "123654", timestamp 1672135206524).
	if got, want := SignWebhook("123654", "1672135206524"), "AbEvusCKxqRkBtTr4fD47SGVP/mRwlt48iuUYMFRloI="; got != want {
		t.Errorf("SignWebhook = %q, want %q", got, want)
	}
}

func TestVerifyWebhook(t *testing.T) {
	t.Parallel()
	const secret = "It's a secret+/="
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	ts := strconv.FormatInt(now.Add(-30*time.Second).UnixMilli(), 10)
	sig := SignWebhook(secret, ts)
	old := strconv.FormatInt(now.Add(-2*time.Hour).UnixMilli(), 10)
	future := strconv.FormatInt(now.Add(time.Hour).UnixMilli(), 10)
	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	tests := map[string]struct {
		secret    string
		h         http.Header
		window    time.Duration
		wantClass failure.Class
	}{
		"password ok":                   {secret: secret, h: hdr(HeaderToken, secret)},
		"password ok, stale ts ignored": {secret: secret, h: hdr(HeaderToken, secret, HeaderTimestamp, old)},
		"password bad":                  {secret: secret, h: hdr(HeaderToken, "guess"), wantClass: failure.Auth},
		"password prefix":               {secret: secret, h: hdr(HeaderToken, secret[:5]), wantClass: failure.Auth},
		"signature plain":               {secret: secret, h: hdr(HeaderToken, sig, HeaderTimestamp, ts)},
		"signature url-encoded":         {secret: secret, h: hdr(HeaderToken, url.QueryEscape(sig), HeaderTimestamp, ts)},
		"signature with window":         {secret: secret, h: hdr(HeaderToken, sig, HeaderTimestamp, ts), window: time.Minute},
		"signature bad":                 {secret: secret, h: hdr(HeaderToken, SignWebhook("other", ts), HeaderTimestamp, ts), wantClass: failure.Auth},
		"signature of another time":     {secret: secret, h: hdr(HeaderToken, sig, HeaderTimestamp, strconv.FormatInt(now.UnixMilli(), 10)), wantClass: failure.Auth},
		"signature stale":               {secret: secret, h: hdr(HeaderToken, SignWebhook(secret, old), HeaderTimestamp, old), wantClass: failure.Auth},
		"signature from the future":     {secret: secret, h: hdr(HeaderToken, SignWebhook(secret, future), HeaderTimestamp, future), wantClass: failure.Auth},
		"signature beyond small window": {secret: secret, h: hdr(HeaderToken, sig, HeaderTimestamp, ts), window: 10 * time.Second, wantClass: failure.Auth},
		"signature without timestamp":   {secret: secret, h: hdr(HeaderToken, sig), wantClass: failure.Auth},
		"malformed timestamp":           {secret: secret, h: hdr(HeaderToken, sig, HeaderTimestamp, "yesterday"), wantClass: failure.Auth},
		"missing token":                 {secret: secret, h: hdr(HeaderTimestamp, ts), wantClass: failure.Auth},
		"no headers":                    {secret: secret, h: http.Header{}, wantClass: failure.Auth},
		"empty secret refuses all":      {secret: "", h: hdr(HeaderToken, ""), wantClass: failure.Invalid},
		"broken escape":                 {secret: secret, h: hdr(HeaderToken, "%zz", HeaderTimestamp, ts), wantClass: failure.Auth},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := VerifyWebhook(tc.secret, tc.h, now, tc.window)
			if got, want := failure.ClassOf(err), tc.wantClass; got != want {
				t.Fatalf("class = %q, want %q (err: %v)", got, want, err)
			}
			if err != nil {
				for _, s := range []string{secret, sig, url.QueryEscape(sig)} {
					if contains(err.Error(), s) {
						t.Errorf("error shows a secret or token %q: %v", s, err)
					}
				}
			}
		})
	}
}

func TestPingAndEvent(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		ping, event string
		wantPing    bool
	}{
		"ping":       {ping: "true", event: EventPush, wantPing: true},
		"ping caps":  {ping: "True", event: EventTagPush, wantPing: true},
		"not a ping": {ping: "false", event: EventPush},
		"absent":     {event: EventTagPush},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if tc.ping != "" {
				h.Set(HeaderPing, tc.ping)
			}
			h.Set(HeaderEvent, tc.event)
			if got, want := IsPing(h), tc.wantPing; got != want {
				t.Errorf("IsPing = %v, want %v", got, want)
			}
			if got, want := Event(h), tc.event; got != want {
				t.Errorf("Event = %q, want %q", got, want)
			}
		})
	}
}
