package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
)

// Signature errors. None repeats the header or the secret.
var (
	ErrNoSecret         = errors.New("no webhook secret is configured: every GitHub delivery is refused")
	ErrMissingSignature = errors.New("the delivery has no X-Hub-Signature-256 header")
	ErrBadSignature     = errors.New("X-Hub-Signature-256 does not match the body: check the webhook secret")
)

// Sign returns GitHub's X-Hub-Signature-256 value for body: "sha256=" and
// the hex HMAC-SHA256 of the raw body keyed with the webhook secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// VerifySignature checks an X-Hub-Signature-256 header against the raw body,
// in constant time.
func VerifySignature(secret []byte, header string, body []byte) error {
	if len(secret) == 0 {
		return ErrNoSecret
	}
	if header == "" {
		return ErrMissingSignature
	}
	hexSum, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return ErrBadSignature
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil {
		return ErrBadSignature
	}
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	if !hmac.Equal(got, m.Sum(nil)) {
		return ErrBadSignature
	}
	return nil
}
