package config

import (
	"fmt"
	"log/slog"
)

// redacted is what a set secret prints as.
const redacted = "[redacted]"

// Secret is a configuration value that must never be printed: every fmt
// verb, slog and JSON show "[redacted]" (or "" when unset). Reveal returns
// the value for the one place that needs it.
type Secret string

// Reveal returns the secret itself.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether the secret has a value.
func (s Secret) IsSet() bool { return s != "" }

// String implements fmt.Stringer without the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return fmt.Sprintf("config.Secret(%q)", s.String()) }

// Format keeps every verb (%s, %q, %x, %v…) from printing the value.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = fmt.Fprint(f, s.GoString())
		return
	}
	_, _ = fmt.Fprint(f, s.String())
}

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText keeps encoders (JSON, YAML…) from writing the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
