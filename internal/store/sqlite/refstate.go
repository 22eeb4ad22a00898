package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// RefState returns the last-synced object id per ref of a mirror (empty,
// not nil, when none is recorded).
func (s *Store) RefState(ctx context.Context, mirrorID int64) (map[string]string, error) {
	refs := map[string]string{}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := mirrorExists(ctx, tx, mirrorID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT ref, object_id FROM ref_states WHERE mirror_id = ?`, mirrorID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var ref, oid string
			if err := rows.Scan(&ref, &oid); err != nil {
				return err
			}
			refs[ref] = oid
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("error loading ref state of mirror %d: %w", mirrorID, err)
	}
	return refs, nil
}

// SaveRefState replaces a mirror's ref state with refs.
func (s *Store) SaveRefState(ctx context.Context, mirrorID int64, refs map[string]string) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := mirrorExists(ctx, tx, mirrorID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM ref_states WHERE mirror_id = ?`, mirrorID); err != nil {
			return err
		}
		if len(refs) == 0 {
			return nil
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO ref_states (mirror_id, ref, object_id) VALUES (?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for ref, oid := range refs {
			if _, err := stmt.ExecContext(ctx, mirrorID, ref, oid); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("error saving ref state of mirror %d: %w", mirrorID, err)
	}
	return nil
}

// mirrorExists returns store.ErrNotFound for an unknown mirror.
func mirrorExists(ctx context.Context, tx *sql.Tx, mirrorID int64) error {
	var exists bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM mirrors WHERE id = ?)`, mirrorID).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		return store.ErrNotFound
	}
	return nil
}
