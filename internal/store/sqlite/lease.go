package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// TakeLease implements store.Leases.
func (s *Store) TakeLease(ctx context.Context, l store.Lease, ttl time.Duration) (bool, error) {
	now := s.nowTime()
	res, err := s.db.ExecContext(ctx, `
		INSERT INTO leases (key, holder, job_id, expires_at) VALUES (?1, ?2, ?3, ?4)
		ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, job_id = excluded.job_id, expires_at = excluded.expires_at
		WHERE leases.expires_at <= ?5 OR (leases.holder = excluded.holder AND leases.job_id = excluded.job_id)`,
		l.Key, l.Holder, l.JobID, nanos(now.Add(ttl)), nanos(now))
	if err != nil {
		return false, fmt.Errorf("error taking the lease of %s: %w", l.Key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("error taking the lease of %s: %w", l.Key, err)
	}
	return n == 1, nil
}

// TakeOverLease implements store.Leases.
func (s *Store) TakeOverLease(ctx context.Context, old, l store.Lease, ttl time.Duration) (bool, error) {
	now := s.nowTime()
	res, err := s.db.ExecContext(ctx, `
		UPDATE leases SET holder = ?, job_id = ?, expires_at = ?
		WHERE key = ? AND holder = ? AND job_id = ? AND expires_at <= ?`,
		l.Holder, l.JobID, nanos(now.Add(ttl)), l.Key, old.Holder, old.JobID, nanos(now))
	if err != nil {
		return false, fmt.Errorf("error taking over the lease of %s: %w", l.Key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("error taking over the lease of %s: %w", l.Key, err)
	}
	return n == 1, nil
}

// RenewLease implements store.Leases.
func (s *Store) RenewLease(ctx context.Context, l store.Lease, ttl time.Duration) error {
	res, err := s.db.ExecContext(ctx, `UPDATE leases SET expires_at = ? WHERE key = ? AND holder = ? AND job_id = ?`,
		nanos(s.nowTime().Add(ttl)), l.Key, l.Holder, l.JobID)
	if err != nil {
		return fmt.Errorf("error renewing the lease of %s: %w", l.Key, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("error renewing the lease of %s: %w", l.Key, errors.Join(store.ErrLeaseLost, err))
	}
	return nil
}

// ReleaseLease implements store.Leases.
func (s *Store) ReleaseLease(ctx context.Context, l store.Lease) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM leases WHERE key = ? AND holder = ? AND job_id = ?`,
		l.Key, l.Holder, l.JobID); err != nil {
		return fmt.Errorf("error releasing the lease of %s: %w", l.Key, err)
	}
	return nil
}

// GetLease implements store.Leases.
func (s *Store) GetLease(ctx context.Context, key string) (*store.Lease, error) {
	l := store.Lease{Key: key}
	var exp int64
	err := s.db.QueryRowContext(ctx, `SELECT holder, job_id, expires_at FROM leases WHERE key = ?`, key).
		Scan(&l.Holder, &l.JobID, &exp)
	if err != nil {
		return nil, fmt.Errorf("error reading the lease of %s: %w", key, noRows(err))
	}
	l.ExpiresAt = fromNanos(exp)
	return &l, nil
}

// BumpCounter implements store.Leases.
func (s *Store) BumpCounter(ctx context.Context, key string) (int64, error) {
	var v int64
	err := s.db.QueryRowContext(ctx, `
		INSERT INTO counters (key, value) VALUES (?, 1)
		ON CONFLICT (key) DO UPDATE SET value = counters.value + 1
		RETURNING value`, key).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("error counting a request for %s: %w", key, err)
	}
	return v, nil
}

// Counter implements store.Leases.
func (s *Store) Counter(ctx context.Context, key string) (int64, error) {
	var v int64
	err := s.db.QueryRowContext(ctx, `SELECT value FROM counters WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("error reading the requests for %s: %w", key, err)
	}
	return v, nil
}
