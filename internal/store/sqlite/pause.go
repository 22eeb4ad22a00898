package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// RequestSync bumps the mirror's RequestSeq and returns the new value. With
// resume, a mirror paused after failures is resumed (its failure count
// cleared); a person's pause stays.
func (s *Store) RequestSync(ctx context.Context, mirrorID int64, resume bool) (int64, error) {
	// In an UPDATE every expression sees the row as it was, so each CASE
	// tests the old paused_by_failures.
	var seq int64
	err := s.db.QueryRowContext(ctx, `
		UPDATE mirrors SET
			request_seq = request_seq + 1,
			paused = CASE WHEN ?1 AND paused_by_failures = 1 THEN 0 ELSE paused END,
			paused_reason = CASE WHEN ?1 AND paused_by_failures = 1 THEN '' ELSE paused_reason END,
			consecutive_failures = CASE WHEN ?1 AND paused_by_failures = 1 THEN 0 ELSE consecutive_failures END,
			updated_at = CASE WHEN ?1 AND paused_by_failures = 1 THEN ?2 ELSE updated_at END,
			paused_by_failures = CASE WHEN ?1 THEN 0 ELSE paused_by_failures END
		WHERE id = ?3
		RETURNING request_seq`,
		resume, nanos(s.nowTime()), mirrorID).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("error requesting sync of mirror %d: %w", mirrorID, noRows(err))
	}
	return seq, nil
}

// RequestSyncs is RequestSync for several mirrors; ids of mirrors that no
// longer exist are left out of the answer. (One process uses the file, so
// there is no round trip to save by doing it in one statement.)
func (s *Store) RequestSyncs(ctx context.Context, mirrorIDs []int64, resume bool) (map[int64]int64, error) {
	seqs := make(map[int64]int64, len(mirrorIDs))
	for _, id := range mirrorIDs {
		seq, err := s.RequestSync(ctx, id, resume)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		seqs[id] = seq
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
	res, err := s.db.ExecContext(ctx, `
		UPDATE mirrors SET
			paused = ?1,
			paused_reason = ?2,
			paused_by_failures = 0,
			consecutive_failures = CASE WHEN ?1 THEN consecutive_failures ELSE 0 END,
			updated_at = ?3
		WHERE id = ?4`,
		paused, reason, nanos(s.nowTime()), mirrorID)
	if err == nil {
		err = affected(res)
	}
	if err != nil {
		return fmt.Errorf("error pausing mirror %d: %w", mirrorID, err)
	}
	return nil
}

// PauseAfterFailures pauses a mirror after too many failures, so that a new
// push resumes it. A mirror a person paused keeps that pause and reason.
func (s *Store) PauseAfterFailures(ctx context.Context, mirrorID int64, reason string) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var paused, byFailures bool
		err := tx.QueryRowContext(ctx,
			`SELECT paused, paused_by_failures FROM mirrors WHERE id = ?`, mirrorID).
			Scan(&paused, &byFailures)
		if err != nil {
			return noRows(err)
		}
		if paused && !byFailures {
			return nil
		}
		_, err = tx.ExecContext(ctx, `
			UPDATE mirrors SET paused = 1, paused_reason = ?, paused_by_failures = 1, updated_at = ?
			WHERE id = ?`,
			reason, nanos(s.nowTime()), mirrorID)
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
	res, err := s.db.ExecContext(ctx, `
		UPDATE mirrors SET status = ?1,
			sync_started_at = CASE WHEN ?1 = ?3 THEN ?4 ELSE sync_started_at END
		WHERE id = ?2`, string(st), mirrorID, string(store.StatusSyncing), nanos(s.nowTime()))
	if err == nil {
		err = affected(res)
	}
	if err != nil {
		return fmt.Errorf("error setting status of mirror %d: %w", mirrorID, err)
	}
	return nil
}

// SetMirrorHook records the mirror's Gitee webhook secret (sealed; an
// empty one removes it) and remote id.
func (s *Store) SetMirrorHook(ctx context.Context, mirrorID int64, hookSecret string, remoteID int64) error {
	var sealed any // NULL: no secret
	if hookSecret != "" {
		b, err := store.Seal(s.box, hookSecret, store.HookSecretAD(mirrorID))
		if err != nil {
			return fmt.Errorf("error saving hook of mirror %d: %w", mirrorID, err)
		}
		sealed = b
	}
	res, err := s.db.ExecContext(ctx, `
		UPDATE mirrors SET hook_secret = ?, hook_remote_id = ?, updated_at = ? WHERE id = ?`,
		sealed, remoteID, nanos(s.nowTime()), mirrorID)
	if err == nil {
		err = affected(res)
	}
	if err != nil {
		return fmt.Errorf("error saving hook of mirror %d: %w", mirrorID, err)
	}
	return nil
}
