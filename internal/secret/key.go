package secret

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Environment variables LoadKey reads.
const (
	EnvKey     = "GITEE_MIRROR_SECRET_KEY"
	EnvKeyFile = "GITEE_MIRROR_SECRET_KEY_FILE"
)

// LoadKey reads the encryption key from EnvKey (base64 or hex of 32 bytes)
// or from the file named by EnvKeyFile (holding the same; a trailing newline
// is fine). With neither set it returns a nil key and a nil error: the App
// then runs, but refuses to store secrets. A malformed value is an error
// naming the variable; the value itself is never part of an error.
func LoadKey(getenv func(string) string) ([]byte, error) {
	val, file := getenv(EnvKey), getenv(EnvKeyFile)
	switch {
	case val != "" && file != "":
		return nil, fmt.Errorf("%s and %s are both set: set one", EnvKey, EnvKeyFile)
	case val != "":
		key, err := ParseKey(val)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvKey, err)
		}
		return key, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("%s: error reading key file: %w", EnvKeyFile, err)
		}
		key, err := ParseKey(strings.TrimRight(string(b), "\r\n"))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvKeyFile, err)
		}
		return key, nil
	}
	return nil, nil
}

// errKeyFormat says what a key must look like, without repeating it.
var errKeyFormat = errors.New("want 32 random bytes as hex (64 characters) or base64 (44 characters), e.g. the output of `openssl rand -base64 32`")

// ParseKey decodes a 32-byte key written as hex or base64 (standard or URL
// alphabet, with or without padding).
func ParseKey(s string) ([]byte, error) {
	if s == "" {
		return nil, fmt.Errorf("empty key: %w", errKeyFormat)
	}
	if len(s) == hex.EncodedLen(KeySize) {
		key, err := hex.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("malformed hex key: %w", errKeyFormat)
		}
		return key, nil
	}
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding,
		base64.URLEncoding, base64.RawURLEncoding,
	} {
		key, err := enc.Strict().DecodeString(s)
		if err != nil {
			continue
		}
		if len(key) != KeySize {
			return nil, fmt.Errorf("key is %d bytes: %w", len(key), errKeyFormat)
		}
		return key, nil
	}
	return nil, fmt.Errorf("malformed key: %w", errKeyFormat)
}
