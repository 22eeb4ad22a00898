package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// RefState returns the last-synced object id per ref of a mirror (empty,
// not nil, when none is recorded). One statement: every sync reads it.
func (s *Store) RefState(ctx context.Context, mirrorID int64) (map[string]string, error) {
	refs := map[string]string{}
	rows, err := s.pool.Query(ctx, `
		SELECT r.ref, r.object_id FROM mirrors m LEFT JOIN ref_states r ON r.mirror_id = m.id
		WHERE m.id = $1`, mirrorID)
	if err == nil {
		found := false
		for rows.Next() {
			found = true
			var ref, oid *string // NULL: the mirror has no state
			if err = rows.Scan(&ref, &oid); err != nil {
				break
			}
			if ref != nil && oid != nil {
				refs[*ref] = *oid
			}
		}
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
		if err == nil && !found {
			err = store.ErrNotFound
		}
	}
	if err != nil {
		return nil, fmt.Errorf("error loading ref state of mirror %d: %w", mirrorID, err)
	}
	return refs, nil
}

// SaveRefState replaces a mirror's ref state with refs in one statement,
// writing only the rows that change: every sync saves its state, and most
// (a reconcile's drift check) save what was there, which rewritten would
// leave a dead row and WAL behind per ref each time.
func (s *Store) SaveRefState(ctx context.Context, mirrorID int64, refs map[string]string) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// The row lock orders two saves of one mirror.
		if err := mirrorExists(ctx, tx, mirrorID, true); err != nil {
			return err
		}
		names := make([]string, 0, len(refs)) // not nil: NULL would match no row
		oids := make([]string, 0, len(refs))
		for ref, oid := range refs {
			names, oids = append(names, ref), append(oids, oid)
		}
		_, err := tx.Exec(ctx, `
			WITH gone AS (
				DELETE FROM ref_states WHERE mirror_id = $1 AND NOT (ref = ANY($2::text[]))
			)
			INSERT INTO ref_states (mirror_id, ref, object_id)
			SELECT $1, r, o FROM unnest($2::text[], $3::text[]) AS u (r, o)
			ON CONFLICT (mirror_id, ref) DO UPDATE SET object_id = excluded.object_id
			WHERE ref_states.object_id <> excluded.object_id`,
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
