package postgres

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// nullTime is how a time is stored: NULL for the zero time.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// fromNull reverses nullTime; times come back in UTC.
func fromNull(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// list is how a filter list is stored (text[]): never NULL.
func list(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// fromList reverses list: empty lists come back nil.
func fromList(v []string) []string {
	if len(v) == 0 {
		return nil
	}
	return v
}

// jsonList encodes a list for a jsonb column; nil and empty are both "[]".
func jsonList[T any](v []T) ([]byte, error) {
	if len(v) == 0 {
		return []byte("[]"), nil
	}
	return json.Marshal(v)
}

// parseList decodes a jsonb column made by jsonList; empty lists come back
// nil.
func parseList[T any](b []byte) ([]T, error) {
	var v []T
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	if len(v) == 0 {
		return nil, nil
	}
	return v, nil
}

// SQLSTATE codes of the constraint violations classify maps.
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)

// classify maps constraint violations to the store's sentinel errors:
// unique → store.ErrConflict, foreign key → store.ErrNotFound (the row
// referred to is missing). Other errors pass through.
func classify(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	switch pe.Code {
	case uniqueViolation:
		return fmt.Errorf("%w: %w", store.ErrConflict, err)
	case foreignKeyViolation:
		return fmt.Errorf("%w: %w", store.ErrNotFound, err)
	}
	return err
}

// noRows turns pgx.ErrNoRows into store.ErrNotFound.
func noRows(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// affected returns store.ErrNotFound when a statement changed no row.
func affected(tag pgconn.CommandTag) error {
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}
