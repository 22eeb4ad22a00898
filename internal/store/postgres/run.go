package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

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
	err = s.pool.QueryRow(ctx, `
		INSERT INTO sync_runs (mirror_id, run_trigger, started_at, outcome, refs, bytes)
		VALUES ($1, $2, $3, $4, $5, $6)
		RETURNING id`,
		run.MirrorID, run.Trigger, run.StartedAt.UTC(), store.OutcomeRunning, refs, run.Bytes).Scan(&run.ID)
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
	var releases []byte // NULL when none ran
	if run.Releases != nil {
		if releases, err = json.Marshal(run.Releases); err != nil {
			return 0, fmt.Errorf("error encoding release results: %w", err)
		}
	}
	var mirrorID int64
	var failures int
	var trigger store.Trigger
	var started time.Time
	err = s.tx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			UPDATE sync_runs SET finished_at = $1, outcome = $2, error_class = $3, error_message = $4,
				refs = $5, bytes = $6, releases = $9
			WHERE id = $7 AND outcome = $8
			RETURNING mirror_id, run_trigger, started_at`,
			run.FinishedAt.UTC(), run.Outcome, run.ErrorClass, run.ErrorMessage, refs, run.Bytes,
			run.ID, store.OutcomeRunning, releases).Scan(&mirrorID, &trigger, &started)
		if errors.Is(err, pgx.ErrNoRows) {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sync_runs WHERE id = $1)`, run.ID).Scan(&exists); err != nil {
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
		err = tx.QueryRow(ctx, `
			UPDATE mirrors SET
				status = $1, last_sync_at = $2, last_error = $3, last_error_class = $4,
				consecutive_failures = CASE $5::text
					WHEN 'failed' THEN consecutive_failures + 1
					WHEN 'interrupted' THEN consecutive_failures
					ELSE 0 END
			WHERE id = $6
			RETURNING consecutive_failures`,
			string(status), run.FinishedAt.UTC(), run.ErrorMessage, run.ErrorClass,
			run.Outcome, mirrorID).Scan(&failures)
		if err != nil {
			return err
		}
		done := *run
		done.Trigger, done.StartedAt = trigger, started
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
	var lim any // NULL: no limit
	if limit > 0 {
		lim = limit
	}
	rows, err := s.pool.Query(ctx, `
		SELECT id, run_trigger, started_at, finished_at, outcome, error_class, error_message, refs, bytes, releases
		FROM sync_runs WHERE mirror_id = $1
		ORDER BY started_at DESC, id DESC
		LIMIT $2`, mirrorID, lim)
	if err != nil {
		return nil, fmt.Errorf("error listing runs of mirror %d: %w", mirrorID, err)
	}
	defer rows.Close()
	var runs []*store.SyncRun
	for rows.Next() {
		r := store.SyncRun{MirrorID: mirrorID}
		var refs, releases []byte
		var finished *time.Time
		if err := rows.Scan(&r.ID, &r.Trigger, &r.StartedAt, &finished, &r.Outcome,
			&r.ErrorClass, &r.ErrorMessage, &refs, &r.Bytes, &releases); err != nil {
			return nil, fmt.Errorf("error reading run of mirror %d: %w", mirrorID, err)
		}
		r.StartedAt, r.FinishedAt = r.StartedAt.UTC(), fromNull(finished)
		if r.Refs, err = parseList[mirror.RefResult](refs); err != nil {
			return nil, fmt.Errorf("error decoding ref results of run %d: %w", r.ID, err)
		}
		if releases != nil {
			r.Releases = &release.Result{}
			if err := json.Unmarshal(releases, r.Releases); err != nil {
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
