package postgres

import (
	"fmt"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// Associated data binding each sealed value to its row: a ciphertext
// copied into another row does not open. The same as the SQLite backend's,
// so the two stay interchangeable.
func credentialAD(installationID, mirrorID int64) []byte {
	return fmt.Appendf(nil, "credential:%d:%d", installationID, mirrorID)
}

func hookSecretAD(mirrorID int64) []byte {
	return fmt.Appendf(nil, "mirror:%d:hook-secret", mirrorID)
}

func settingAD(key string) []byte {
	return fmt.Appendf(nil, "setting:%s", key)
}

// seal encrypts a secret for the row named by ad; store.ErrNoKey without
// a key.
func (s *Store) seal(plaintext string, ad []byte) ([]byte, error) {
	if s.box == nil {
		return nil, store.ErrNoKey
	}
	return s.box.Seal([]byte(plaintext), ad)
}

// open decrypts a sealed value of the row named by ad. Without a key the
// error wraps store.ErrNoKey; with another key than the one that sealed it,
// secret.ErrOpen.
func (s *Store) open(sealed []byte, ad []byte) (string, error) {
	if s.box == nil {
		return "", fmt.Errorf("secret stored encrypted but %w", store.ErrNoKey)
	}
	b, err := s.box.Open(sealed, ad)
	if err != nil {
		return "", fmt.Errorf("%w (was the encryption key changed?)", err)
	}
	return string(b), nil
}
