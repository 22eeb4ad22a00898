package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// RefState returns the last-synced object id per ref of a mirror (empty,
// not nil, when none is recorded).
func (s *Store) RefState(ctx context.Context, mirrorID int64) (map[string]string, error) {
	refs := map[string]string{}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := mirrorExists(ctx, tx, mirrorID, false); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT ref, object_id FROM ref_states WHERE mirror_id = $1`, mirrorID)
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

// SaveRefState replaces a mirror's ref state with refs, in one statement
// batch: a mirror of thousands of refs costs one round trip.
func (s *Store) SaveRefState(ctx context.Context, mirrorID int64, refs map[string]string) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// The row lock orders two saves of one mirror.
		if err := mirrorExists(ctx, tx, mirrorID, true); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM ref_states WHERE mirror_id = $1`, mirrorID); err != nil {
			return err
		}
		if len(refs) == 0 {
			return nil
		}
		names := make([]string, 0, len(refs))
		oids := make([]string, 0, len(refs))
		for ref, oid := range refs {
			names, oids = append(names, ref), append(oids, oid)
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO ref_states (mirror_id, ref, object_id)
			SELECT $1, r, o FROM unnest($2::text[], $3::text[]) AS u (r, o)`,
			mirrorID, names, oids)
		return err
	})
	if err != nil {
		return fmt.Errorf("error saving ref state of mirror %d: %w", mirrorID, err)
	}
	return nil
}

// mirrorExists returns store.ErrNotFound for an unknown mirror; with lock
// it holds the mirror's row until the transaction ends.
func mirrorExists(ctx context.Context, tx pgx.Tx, mirrorID int64, lock bool) error {
	q := `SELECT id FROM mirrors WHERE id = $1`
	if lock {
		q += ` FOR UPDATE`
	}
	var id int64
	return noRows(tx.QueryRow(ctx, q, mirrorID).Scan(&id))
}
