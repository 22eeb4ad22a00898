package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// SetCredential stores a Gitee token sealed, for an installation (MirrorID
// 0) or one of its mirrors; store.ErrNoKey without a key. UpdatedAt is the
// store's clock.
func (s *Store) SetCredential(ctx context.Context, c store.Credential) error {
	if c.Token == "" {
		return fmt.Errorf("error storing credential for installation %d mirror %d: empty token", c.InstallationID, c.MirrorID)
	}
	sealed, err := store.Seal(s.box, c.Token, store.CredentialAD(c.InstallationID, c.MirrorID))
	if err != nil {
		return fmt.Errorf("error storing credential for installation %d mirror %d: %w", c.InstallationID, c.MirrorID, err)
	}
	err = s.tx(ctx, func(tx pgx.Tx) error {
		if c.MirrorID != 0 {
			var exists bool
			err := tx.QueryRow(ctx,
				`SELECT EXISTS (SELECT 1 FROM mirrors WHERE id = $1 AND installation_id = $2)`,
				c.MirrorID, c.InstallationID).Scan(&exists)
			if err != nil {
				return err
			}
			if !exists {
				return fmt.Errorf("no mirror %d in installation %d: %w", c.MirrorID, c.InstallationID, store.ErrNotFound)
			}
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO credentials (installation_id, mirror_id, login, token, updated_at)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (installation_id, mirror_id) DO UPDATE SET
				login = excluded.login, token = excluded.token, updated_at = excluded.updated_at`,
			c.InstallationID, c.MirrorID, c.Login, sealed, s.nowTime())
		return classify(err)
	})
	if err != nil {
		return fmt.Errorf("error storing credential for installation %d mirror %d: %w", c.InstallationID, c.MirrorID, err)
	}
	return nil
}

// GetCredential returns the token for a mirror: its own if set, else its
// installation's (MirrorID 0 in the result). mirrorID 0 asks for the
// installation's. store.ErrNotFound when neither exists.
func (s *Store) GetCredential(ctx context.Context, installationID, mirrorID int64) (*store.Credential, error) {
	c := store.Credential{InstallationID: installationID}
	var sealed []byte
	err := s.pool.QueryRow(ctx, `
		SELECT mirror_id, login, token, updated_at FROM credentials
		WHERE installation_id = $1 AND mirror_id IN ($2, 0)
		ORDER BY mirror_id DESC LIMIT 1`,
		installationID, mirrorID).Scan(&c.MirrorID, &c.Login, &sealed, &c.UpdatedAt)
	if err != nil {
		return nil, fmt.Errorf("error loading credential for installation %d mirror %d: %w", installationID, mirrorID, noRows(err))
	}
	if c.Token, err = store.Unseal(s.box, sealed, store.CredentialAD(installationID, c.MirrorID)); err != nil {
		return nil, fmt.Errorf("error decrypting credential for installation %d mirror %d: %w", installationID, c.MirrorID, err)
	}
	c.UpdatedAt = c.UpdatedAt.UTC()
	return &c, nil
}

// DeleteCredential removes exactly the credential of (installationID,
// mirrorID); a mirror's removal does not touch its installation's.
func (s *Store) DeleteCredential(ctx context.Context, installationID, mirrorID int64) error {
	tag, err := s.pool.Exec(ctx,
		`DELETE FROM credentials WHERE installation_id = $1 AND mirror_id = $2`, installationID, mirrorID)
	if err == nil {
		err = affected(tag)
	}
	if err != nil {
		return fmt.Errorf("error deleting credential for installation %d mirror %d: %w", installationID, mirrorID, err)
	}
	return nil
}
