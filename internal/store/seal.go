package store

import (
	"fmt"

	"github.com/gitee-mirror/gitee-mirror/internal/secret"
)

// Associated data binding each sealed value to its row, the same for every
// backend (so their files stay interchangeable): a ciphertext copied into
// another row does not open.

// CredentialAD binds a sealed credential to its installation and mirror.
func CredentialAD(installationID, mirrorID int64) []byte {
	return fmt.Appendf(nil, "credential:%d:%d", installationID, mirrorID)
}

// HookSecretAD binds a sealed webhook secret to its mirror.
func HookSecretAD(mirrorID int64) []byte {
	return fmt.Appendf(nil, "mirror:%d:hook-secret", mirrorID)
}

// SettingAD binds a sealed App setting to its key.
func SettingAD(key string) []byte {
	return fmt.Appendf(nil, "setting:%s", key)
}

// Seal encrypts a secret for the row named by ad with box; ErrNoKey when
// box is nil (no key configured).
func Seal(box *secret.Box, plaintext string, ad []byte) ([]byte, error) {
	if box == nil {
		return nil, ErrNoKey
	}
	return box.Seal([]byte(plaintext), ad)
}

// Unseal decrypts a sealed value of the row named by ad. Without a key the
// error wraps ErrNoKey; with another key than the one that sealed it,
// secret.ErrOpen.
func Unseal(box *secret.Box, sealed []byte, ad []byte) (string, error) {
	if box == nil {
		return "", fmt.Errorf("secret stored encrypted but %w", ErrNoKey)
	}
	b, err := box.Open(sealed, ad)
	if err != nil {
		return "", fmt.Errorf("%w (was the encryption key changed?)", err)
	}
	return string(b), nil
}
