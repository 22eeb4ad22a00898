package sqlite

import (
	"context"
	"fmt"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// SetProgress implements store.Progresses; UpdatedAt is now.
func (s *Store) SetProgress(ctx context.Context, p *store.SyncProgress) error {
	p.UpdatedAt = s.nowTime()
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO sync_progress (mirror_id, phase, objects, received, sent, remote, started_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (mirror_id) DO UPDATE SET
			phase = excluded.phase, objects = excluded.objects, received = excluded.received, sent = excluded.sent,
			remote = excluded.remote, started_at = excluded.started_at, updated_at = excluded.updated_at`,
		p.MirrorID, p.Phase, p.Objects, p.Received, p.Sent, p.Remote, nanos(p.StartedAt), nanos(p.UpdatedAt))
	if err != nil {
		return fmt.Errorf("error storing the progress of mirror %d: %w", p.MirrorID, classify(err))
	}
	return nil
}

// ClearProgress implements store.Progresses.
func (s *Store) ClearProgress(ctx context.Context, mirrorID int64) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sync_progress WHERE mirror_id = ?`, mirrorID); err != nil {
		return fmt.Errorf("error clearing the progress of mirror %d: %w", mirrorID, err)
	}
	return nil
}

// Progress implements store.Progresses.
func (s *Store) Progress(ctx context.Context, mirrorID int64) (*store.SyncProgress, error) {
	p := store.SyncProgress{MirrorID: mirrorID}
	var started, updated int64
	err := s.db.QueryRowContext(ctx, `
		SELECT phase, objects, received, sent, remote, started_at, updated_at FROM sync_progress WHERE mirror_id = ?`,
		mirrorID).Scan(&p.Phase, &p.Objects, &p.Received, &p.Sent, &p.Remote, &started, &updated)
	if err != nil {
		return nil, fmt.Errorf("error loading the progress of mirror %d: %w", mirrorID, noRows(err))
	}
	p.StartedAt, p.UpdatedAt = fromNanos(started), fromNanos(updated)
	return &p, nil
}
