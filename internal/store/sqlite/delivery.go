package sqlite

import (
	"context"
	"fmt"
	"time"
)

// RecordDelivery stores a webhook delivery id; first is false when
// (source, id) was already recorded.
func (s *Store) RecordDelivery(ctx context.Context, source, id string) (bool, error) {
	res, err := s.db.ExecContext(ctx, `
		INSERT INTO deliveries (source, id, received_at) VALUES (?, ?, ?)
		ON CONFLICT (source, id) DO NOTHING`,
		source, id, nanos(s.nowTime()))
	if err != nil {
		return false, fmt.Errorf("error recording %s delivery %q: %w", source, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("error recording %s delivery %q: %w", source, id, err)
	}
	return n == 1, nil
}

// ForgetDelivery removes a delivery id, so that a redelivery is taken; an
// unknown id is not an error.
func (s *Store) ForgetDelivery(ctx context.Context, source, id string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM deliveries WHERE source = ? AND id = ?`, source, id); err != nil {
		return fmt.Errorf("error forgetting %s delivery %q: %w", source, id, err)
	}
	return nil
}

// PruneDeliveries drops delivery ids recorded before before.
func (s *Store) PruneDeliveries(ctx context.Context, before time.Time) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM deliveries WHERE received_at < ?`, nanos(before)); err != nil {
		return fmt.Errorf("error pruning deliveries: %w", err)
	}
	return nil
}
