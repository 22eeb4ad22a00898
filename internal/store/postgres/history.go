package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// trimHistory keeps a mirror's history bounded once run has finished: a
// no-op reconcile replaces the no-op reconcile just before it (one row per
// streak), and finished runs beyond the newest keepRuns are dropped. Both
// walk the (mirror_id, started_at, id) index.
func (s *Store) trimHistory(ctx context.Context, tx pgx.Tx, mirrorID int64, run *store.SyncRun) error {
	if run.NoOp() {
		prev := store.SyncRun{}
		var refs []byte
		err := tx.QueryRow(ctx, `
			SELECT id, run_trigger, outcome, refs, bytes FROM sync_runs
			WHERE mirror_id = $1 AND (started_at, id) < ($2, $3)
			ORDER BY started_at DESC, id DESC LIMIT 1`,
			mirrorID, run.StartedAt.UTC(), run.ID).Scan(&prev.ID, &prev.Trigger, &prev.Outcome, &refs, &prev.Bytes)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return fmt.Errorf("error reading the run before: %w", err)
		default:
			if prev.Refs, err = parseList[mirror.RefResult](refs); err != nil {
				return fmt.Errorf("error decoding ref results of run %d: %w", prev.ID, err)
			}
			if prev.NoOp() {
				if _, err := tx.Exec(ctx, `DELETE FROM sync_runs WHERE id = $1`, prev.ID); err != nil {
					return fmt.Errorf("error replacing no-op run %d: %w", prev.ID, err)
				}
			}
		}
	}
	_, err := tx.Exec(ctx, `
		DELETE FROM sync_runs WHERE id IN (
			SELECT id FROM sync_runs WHERE mirror_id = $1 AND outcome <> $2
			ORDER BY started_at DESC, id DESC OFFSET $3)`,
		mirrorID, store.OutcomeRunning, s.keepRuns)
	if err != nil {
		return fmt.Errorf("error dropping old runs: %w", err)
	}
	return nil
}
