package sqlite

import (
	"context"
	"fmt"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// Setting reads an App setting, decrypting a secret one; "" and
// store.ErrNotFound when unset.
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	var value string
	var sealed []byte
	err := s.db.QueryRowContext(ctx, `SELECT value, sealed FROM settings WHERE key = ?`, key).Scan(&value, &sealed)
	if err != nil {
		return "", fmt.Errorf("error loading setting %q: %w", key, noRows(err))
	}
	if sealed == nil {
		return value, nil
	}
	value, err = store.Unseal(s.box, sealed, store.SettingAD(key))
	if err != nil {
		return "", fmt.Errorf("error decrypting setting %q: %w", key, err)
	}
	return value, nil
}

// SetSetting stores an App setting; a secret one sealed (store.ErrNoKey
// without a key), never in plain text.
func (s *Store) SetSetting(ctx context.Context, key, value string, secret bool) error {
	plain, sealed := value, any(nil)
	if secret {
		b, err := store.Seal(s.box, value, store.SettingAD(key))
		if err != nil {
			return fmt.Errorf("error storing setting %q: %w", key, err)
		}
		plain, sealed = "", b
	}
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO settings (key, value, sealed, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET
			value = excluded.value, sealed = excluded.sealed, updated_at = excluded.updated_at`,
		key, plain, sealed, nanos(s.nowTime()))
	if err != nil {
		return fmt.Errorf("error storing setting %q: %w", key, err)
	}
	return nil
}
