package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/release"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// outcomeStatus is the mirror status each final outcome leaves.
var outcomeStatus = map[store.Outcome]store.Status{
	store.OutcomeOK:       store.StatusInSync,
	store.OutcomeDiverged: store.StatusDiverged,
	store.OutcomeFailed:   store.StatusFailing,
	// The job is back in the queue: it shows as failing (with the
	// interruption as the last error) until it has run again.
	store.OutcomeInterrupted: store.StatusFailing,
}

// errFinished: FinishRun on a run that already finished, which would count
// its failure twice.
var errFinished = errors.New("run already finished")

// StartRun records a sync starting: Outcome "running", StartedAt now unless
// set. It sets run.ID.
func (s *Store) StartRun(ctx context.Context, run *store.SyncRun) error {
	if run.StartedAt.IsZero() {
		run.StartedAt = s.nowTime()
	}
	refs, err := jsonList(run.Refs)
	if err != nil {
		return fmt.Errorf("error encoding ref results: %w", err)
	}
	err = s.db.QueryRowContext(ctx, `
		INSERT INTO sync_runs (mirror_id, run_trigger, started_at, outcome, refs, bytes)
		VALUES (?, ?, ?, ?, ?, ?)
		RETURNING id`,
		run.MirrorID, run.Trigger, nanos(run.StartedAt), store.OutcomeRunning, refs, run.Bytes).Scan(&run.ID)
	if err != nil {
		return fmt.Errorf("error starting run of mirror %d: %w", run.MirrorID, classify(err))
	}
	run.Outcome = store.OutcomeRunning
	return nil
}

// FinishRun records the outcome of a running run ("ok", "diverged",
// "failed" or "interrupted"; FinishedAt now unless set) and, in the same
// transaction, updates its mirror: status from the outcome (ok → in-sync,
// diverged → diverged, failed and interrupted → failing), LastSyncAt,
// LastError(Class) from the run, and ConsecutiveFailures (+1 on failed,
// unchanged on interrupted, else 0), which it returns.
func (s *Store) FinishRun(ctx context.Context, run *store.SyncRun) (int, error) {
	status, ok := outcomeStatus[run.Outcome]
	if !ok {
		return 0, fmt.Errorf("error finishing run %d: outcome %q is none of ok, diverged, failed, interrupted", run.ID, run.Outcome)
	}
	if run.FinishedAt.IsZero() {
		run.FinishedAt = s.nowTime()
	}
	refs, err := jsonList(run.Refs)
	if err != nil {
		return 0, fmt.Errorf("error encoding ref results: %w", err)
	}
	releases, err := jsonReleases(run.Releases)
	if err != nil {
		return 0, err
	}
	var mirrorID int64
	var failures int
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var trigger store.Trigger
		var started int64
		err := tx.QueryRowContext(ctx, `
			UPDATE sync_runs SET finished_at = ?, outcome = ?, error_class = ?, error_message = ?,
				refs = ?, bytes = ?, releases = ?
			WHERE id = ? AND outcome = ?
			RETURNING mirror_id, run_trigger, started_at`,
			nanos(run.FinishedAt), run.Outcome, run.ErrorClass, run.ErrorMessage, refs, run.Bytes, releases,
			run.ID, store.OutcomeRunning).Scan(&mirrorID, &trigger, &started)
		if errors.Is(err, sql.ErrNoRows) {
			var exists bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM sync_runs WHERE id = ?)`, run.ID).Scan(&exists); err != nil {
				return err
			}
			if exists {
				return errFinished
			}
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `
			UPDATE mirrors SET
				status = ?, last_sync_at = ?, last_error = ?, last_error_class = ?,
				consecutive_failures = CASE ?
					WHEN 'failed' THEN consecutive_failures + 1
					WHEN 'interrupted' THEN consecutive_failures
					ELSE 0 END
			WHERE id = ?
			RETURNING consecutive_failures`,
			string(status), nanos(run.FinishedAt), run.ErrorMessage, run.ErrorClass,
			run.Outcome, mirrorID).Scan(&failures)
		if err != nil {
			return err
		}
		done := *run
		done.Trigger, done.StartedAt = trigger, fromNanos(started)
		return s.trimHistory(ctx, tx, mirrorID, &done)
	})
	if err != nil {
		return 0, fmt.Errorf("error finishing run %d: %w", run.ID, noRows(err))
	}
	run.MirrorID = mirrorID
	return failures, nil
}

// ListRuns returns a mirror's runs, newest (by start) first, at most limit
// (all when limit <= 0). An unknown mirror has none.
func (s *Store) ListRuns(ctx context.Context, mirrorID int64, limit int) ([]*store.SyncRun, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.db.QueryContext(ctx, `
		SELECT id, run_trigger, started_at, finished_at, outcome, error_class, error_message, refs, bytes, releases
		FROM sync_runs WHERE mirror_id = ?
		ORDER BY started_at DESC, id DESC
		LIMIT ?`, mirrorID, limit)
	if err != nil {
		return nil, fmt.Errorf("error listing runs of mirror %d: %w", mirrorID, err)
	}
	defer rows.Close()
	var runs []*store.SyncRun
	for rows.Next() {
		r := store.SyncRun{MirrorID: mirrorID}
		var started, finished int64
		var refs, releases string
		if err := rows.Scan(&r.ID, &r.Trigger, &started, &finished, &r.Outcome,
			&r.ErrorClass, &r.ErrorMessage, &refs, &r.Bytes, &releases); err != nil {
			return nil, fmt.Errorf("error reading run of mirror %d: %w", mirrorID, err)
		}
		r.StartedAt, r.FinishedAt = fromNanos(started), fromNanos(finished)
		if r.Refs, err = parseList[mirror.RefResult](refs); err != nil {
			return nil, fmt.Errorf("error decoding ref results of run %d: %w", r.ID, err)
		}
		if releases != "" {
			r.Releases = &release.Result{}
			if err := json.Unmarshal([]byte(releases), r.Releases); err != nil {
				return nil, fmt.Errorf("error decoding release results of run %d: %w", r.ID, err)
			}
		}
		runs = append(runs, &r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("error listing runs of mirror %d: %w", mirrorID, err)
	}
	return runs, nil
}
