package postgres

import (
	"context"
	"fmt"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// UpsertInstallation inserts in, or updates its account and suspension;
// CreatedAt is kept from the first insert.
func (s *Store) UpsertInstallation(ctx context.Context, in store.Installation) error {
	now := s.nowTime()
	_, err := s.pool.Exec(ctx, `
		INSERT INTO installations (id, account, account_type, suspended, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $5)
		ON CONFLICT (id) DO UPDATE SET
			account = excluded.account,
			account_type = excluded.account_type,
			suspended = excluded.suspended,
			updated_at = excluded.updated_at`,
		in.ID, in.Account, in.AccountType, in.Suspended, now)
	if err != nil {
		return fmt.Errorf("error saving installation %d: %w", in.ID, err)
	}
	return nil
}

// DeleteInstallation removes the installation; its mirrors, their runs, ref
// state and credentials go with it (ON DELETE CASCADE).
func (s *Store) DeleteInstallation(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM installations WHERE id = $1`, id)
	if err == nil {
		err = affected(tag)
	}
	if err != nil {
		return fmt.Errorf("error deleting installation %d: %w", id, err)
	}
	return nil
}

// SetInstallationSuspended records a suspension or its end.
func (s *Store) SetInstallationSuspended(ctx context.Context, id int64, suspended bool) error {
	tag, err := s.pool.Exec(ctx,
		`UPDATE installations SET suspended = $1, updated_at = $2 WHERE id = $3`,
		suspended, s.nowTime(), id)
	if err == nil {
		err = affected(tag)
	}
	if err != nil {
		return fmt.Errorf("error updating installation %d: %w", id, err)
	}
	return nil
}

// GetInstallation loads one installation.
func (s *Store) GetInstallation(ctx context.Context, id int64) (*store.Installation, error) {
	in := store.Installation{ID: id}
	err := s.pool.QueryRow(ctx, `
		SELECT account, account_type, suspended, created_at, updated_at
		FROM installations WHERE id = $1`, id).
		Scan(&in.Account, &in.AccountType, &in.Suspended, &in.CreatedAt, &in.UpdatedAt)
	if err != nil {
		return nil, fmt.Errorf("error loading installation %d: %w", id, noRows(err))
	}
	in.CreatedAt, in.UpdatedAt = in.CreatedAt.UTC(), in.UpdatedAt.UTC()
	return &in, nil
}
