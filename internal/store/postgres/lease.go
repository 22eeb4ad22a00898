package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// Leases are timed by the database's clock (clock_timestamp(), not the
// transaction's now()), so that replicas whose clocks disagree still agree
// on when a lease lapsed. Durations travel as microseconds.

// TakeLease implements store.Leases.
func (s *Store) TakeLease(ctx context.Context, l store.Lease, ttl time.Duration) (bool, error) {
	tag, err := s.pool.Exec(ctx, `
		INSERT INTO leases (key, holder, job_id, expires_at)
		VALUES ($1, $2, $3, clock_timestamp() + $4 * interval '1 microsecond')
		ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, job_id = excluded.job_id, expires_at = excluded.expires_at
		WHERE leases.expires_at <= clock_timestamp() OR (leases.holder = excluded.holder AND leases.job_id = excluded.job_id)`,
		l.Key, l.Holder, l.JobID, ttl.Microseconds())
	if err != nil {
		return false, fmt.Errorf("error taking the lease of %s: %w", l.Key, err)
	}
	return tag.RowsAffected() == 1, nil
}

// TakeOverLease implements store.Leases.
func (s *Store) TakeOverLease(ctx context.Context, old, l store.Lease, ttl time.Duration) (bool, error) {
	tag, err := s.pool.Exec(ctx, `
		UPDATE leases SET holder = $1, job_id = $2, expires_at = clock_timestamp() + $3 * interval '1 microsecond'
		WHERE key = $4 AND holder = $5 AND job_id = $6 AND expires_at <= clock_timestamp()`,
		l.Holder, l.JobID, ttl.Microseconds(), l.Key, old.Holder, old.JobID)
	if err != nil {
		return false, fmt.Errorf("error taking over the lease of %s: %w", l.Key, err)
	}
	return tag.RowsAffected() == 1, nil
}

// RenewLease implements store.Leases.
func (s *Store) RenewLease(ctx context.Context, l store.Lease, ttl time.Duration) error {
	tag, err := s.pool.Exec(ctx, `
		UPDATE leases SET expires_at = clock_timestamp() + $4 * interval '1 microsecond'
		WHERE key = $1 AND holder = $2 AND job_id = $3`,
		l.Key, l.Holder, l.JobID, ttl.Microseconds())
	if err != nil {
		return fmt.Errorf("error renewing the lease of %s: %w", l.Key, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("error renewing the lease of %s: %w", l.Key, store.ErrLeaseLost)
	}
	return nil
}

// ReleaseLease implements store.Leases.
func (s *Store) ReleaseLease(ctx context.Context, l store.Lease) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM leases WHERE key = $1 AND holder = $2 AND job_id = $3`,
		l.Key, l.Holder, l.JobID); err != nil {
		return fmt.Errorf("error releasing the lease of %s: %w", l.Key, err)
	}
	return nil
}

// GetLease implements store.Leases.
func (s *Store) GetLease(ctx context.Context, key string) (*store.Lease, error) {
	l := store.Lease{Key: key}
	err := s.pool.QueryRow(ctx, `SELECT holder, job_id, expires_at FROM leases WHERE key = $1`, key).
		Scan(&l.Holder, &l.JobID, &l.ExpiresAt)
	if err != nil {
		return nil, fmt.Errorf("error reading the lease of %s: %w", key, noRows(err))
	}
	l.ExpiresAt = l.ExpiresAt.UTC()
	return &l, nil
}

// BumpCounter implements store.Leases.
func (s *Store) BumpCounter(ctx context.Context, key string) (int64, error) {
	var v int64
	err := s.pool.QueryRow(ctx, `
		INSERT INTO counters (key, value) VALUES ($1, 1)
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
	err := s.pool.QueryRow(ctx, `SELECT value FROM counters WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("error reading the requests for %s: %w", key, err)
	}
	return v, nil
}
