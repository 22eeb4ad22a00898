package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// requestSyncSQL bumps the request sequence of the mirrors whose ids are
// in $3. In an UPDATE every expression sees the row as it was, so each CASE
// tests the old paused_by_failures.
const requestSyncSQL = `
		UPDATE mirrors SET
			request_seq = request_seq + 1,
			paused = CASE WHEN $1 AND paused_by_failures THEN false ELSE paused END,
			paused_reason = CASE WHEN $1 AND paused_by_failures THEN '' ELSE paused_reason END,
			consecutive_failures = CASE WHEN $1 AND paused_by_failures THEN 0 ELSE consecutive_failures END,
			updated_at = CASE WHEN $1 AND paused_by_failures THEN $2 ELSE updated_at END,
			paused_by_failures = CASE WHEN $1 THEN false ELSE paused_by_failures END
		WHERE id = ANY($3)
		RETURNING id, request_seq`

// RequestSync bumps the mirror's RequestSeq and returns the new value. With
// resume, a mirror paused after failures is resumed (its failure count
// cleared); a person's pause stays.
func (s *Store) RequestSync(ctx context.Context, mirrorID int64, resume bool) (int64, error) {
	var id, seq int64
	err := s.pool.QueryRow(ctx, requestSyncSQL, resume, s.nowTime(), []int64{mirrorID}).Scan(&id, &seq)
	if err != nil {
		return 0, fmt.Errorf("error requesting sync of mirror %d: %w", mirrorID, noRows(err))
	}
	return seq, nil
}

// RequestSyncs is RequestSync for several mirrors in one statement.
func (s *Store) RequestSyncs(ctx context.Context, mirrorIDs []int64, resume bool) (map[int64]int64, error) {
	seqs := make(map[int64]int64, len(mirrorIDs))
	if len(mirrorIDs) == 0 {
		return seqs, nil
	}
	rows, err := s.pool.Query(ctx, requestSyncSQL, resume, s.nowTime(), mirrorIDs)
	if err != nil {
		return nil, fmt.Errorf("error requesting syncs of %d mirrors: %w", len(mirrorIDs), err)
	}
	var id, seq int64
	if _, err := pgx.ForEachRow(rows, []any{&id, &seq}, func() error { seqs[id] = seq; return nil }); err != nil {
		return nil, fmt.Errorf("error requesting syncs of %d mirrors: %w", len(mirrorIDs), err)
	}
	return seqs, nil
}

// SetPaused pauses or resumes a mirror on a person's behalf. Pausing takes
// over a pause after failures (a new push no longer resumes it); resuming
// clears the reason and ConsecutiveFailures.
func (s *Store) SetPaused(ctx context.Context, mirrorID int64, paused bool, reason string) error {
	if !paused {
		reason = ""
	}
	tag, err := s.pool.Exec(ctx, `
		UPDATE mirrors SET
			paused = $1,
			paused_reason = $2,
			paused_by_failures = false,
			consecutive_failures = CASE WHEN $1 THEN consecutive_failures ELSE 0 END,
			updated_at = $3
		WHERE id = $4`,
		paused, reason, s.nowTime(), mirrorID)
	if err == nil {
		err = affected(tag)
	}
	if err != nil {
		return fmt.Errorf("error pausing mirror %d: %w", mirrorID, err)
	}
	return nil
}

// PauseAfterFailures pauses a mirror after too many failures, so that a new
// push resumes it. A mirror a person paused keeps that pause and reason.
func (s *Store) PauseAfterFailures(ctx context.Context, mirrorID int64, reason string) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var paused, byFailures bool
		err := tx.QueryRow(ctx,
			`SELECT paused, paused_by_failures FROM mirrors WHERE id = $1 FOR UPDATE`, mirrorID).
			Scan(&paused, &byFailures)
		if err != nil {
			return noRows(err)
		}
		if paused && !byFailures {
			return nil
		}
		_, err = tx.Exec(ctx, `
			UPDATE mirrors SET paused = true, paused_reason = $1, paused_by_failures = true, updated_at = $2
			WHERE id = $3`,
			reason, s.nowTime(), mirrorID)
		return err
	})
	if err != nil {
		return fmt.Errorf("error pausing mirror %d after failures: %w", mirrorID, err)
	}
	return nil
}

// SetStatus records the mirror's status without touching anything else,
// except that StatusSyncing also records now as the mirror's SyncStartedAt.
// While the mirror is paused it reads as paused all the same.
func (s *Store) SetStatus(ctx context.Context, mirrorID int64, st store.Status) error {
	tag, err := s.pool.Exec(ctx, `
		UPDATE mirrors SET status = $1,
			sync_started_at = CASE WHEN $1 = $3 THEN $4::timestamptz ELSE sync_started_at END
		WHERE id = $2`, string(st), mirrorID, string(store.StatusSyncing), s.nowTime().UTC())
	if err == nil {
		err = affected(tag)
	}
	if err != nil {
		return fmt.Errorf("error setting status of mirror %d: %w", mirrorID, err)
	}
	return nil
}

// SetMirrorHook records the mirror's Gitee webhook secret (sealed; an
// empty one removes it) and remote id.
func (s *Store) SetMirrorHook(ctx context.Context, mirrorID int64, hookSecret string, remoteID int64) error {
	var sealed []byte // nil: NULL, no secret
	if hookSecret != "" {
		b, err := store.Seal(s.box, hookSecret, store.HookSecretAD(mirrorID))
		if err != nil {
			return fmt.Errorf("error saving hook of mirror %d: %w", mirrorID, err)
		}
		sealed = b
	}
	tag, err := s.pool.Exec(ctx, `
		UPDATE mirrors SET hook_secret = $1, hook_remote_id = $2, updated_at = $3 WHERE id = $4`,
		sealed, remoteID, s.nowTime(), mirrorID)
	if err == nil {
		err = affected(tag)
	}
	if err != nil {
		return fmt.Errorf("error saving hook of mirror %d: %w", mirrorID, err)
	}
	return nil
}
