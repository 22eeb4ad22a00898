package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// PutState implements store.States; a key whose state expired is free.
func (s *Store) PutState(ctx context.Context, key string, value []byte, expires time.Time) error {
	if value == nil {
		value = []byte{}
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM one_time_states WHERE expires_at <= $1`, s.nowTime()); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO one_time_states (key, value, expires_at) VALUES ($1, $2, $3)`,
			key, value, expires.UTC())
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
	err := s.pool.QueryRow(ctx, `
		DELETE FROM one_time_states WHERE key = $1 AND expires_at > $2 RETURNING value`,
		key, s.nowTime()).Scan(&value)
	if err != nil {
		// The key is a token from a URL: not echoed.
		return nil, fmt.Errorf("error taking a one-time state: %w", noRows(err))
	}
	return value, nil
}
