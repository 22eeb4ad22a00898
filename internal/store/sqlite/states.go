package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// PutState implements store.States; a key whose state expired is free.
func (s *Store) PutState(ctx context.Context, key string, value []byte, expires time.Time) error {
	if value == nil {
		value = []byte{}
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM one_time_states WHERE expires_at <= ?`, nanos(s.nowTime())); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO one_time_states (key, value, expires_at) VALUES (?, ?, ?)`,
			key, value, nanos(expires))
		return classify(err)
	})
	if err != nil {
		return fmt.Errorf("error keeping a one-time state: %w", err)
	}
	return nil
}

// TakeState implements store.States.
func (s *Store) TakeState(ctx context.Context, key string) ([]byte, error) {
	var value []byte
	err := s.db.QueryRowContext(ctx, `
		DELETE FROM one_time_states WHERE key = ? AND expires_at > ? RETURNING value`,
		key, nanos(s.nowTime())).Scan(&value)
	if err != nil {
		// The key is a token from a URL: not echoed.
		return nil, fmt.Errorf("error taking a one-time state: %w", noRows(err))
	}
	return value, nil
}
