package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// The inbox's batch statements, for their plans.
const (
	PendingSQL = pendingSQL
	HandledSQL = handledSQL
)

// InboxConns is the size of the inbox's pool.
const InboxConns = inboxConns

// OpenConns is how many connections the inbox's pool holds now.
func (in *Inbox) OpenConns() int32 { return in.pool.Stat().TotalConns() }

// Dump returns the raw bytes of every value in the store's tables (bytea
// as its bytes, text as its characters), for storetest's scan for secrets
// in plain text (storetest.Dumper).
func (s *Store) Dump(ctx context.Context) ([]byte, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`)
	if err != nil {
		return nil, err
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	var out []byte
	for _, table := range tables {
		rows, err := s.pool.Query(ctx, `SELECT * FROM `+pgx.Identifier{table}.Sanitize(),
			pgx.QueryResultFormats{pgx.BinaryFormatCode})
		if err != nil {
			return nil, fmt.Errorf("dumping %s: %w", table, err)
		}
		for rows.Next() {
			for _, v := range rows.RawValues() {
				out = append(out, v...)
				out = append(out, '\n')
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("dumping %s: %w", table, err)
		}
	}
	return out, nil
}

// StoreMinConns and LockMinConns are the connections the store keeps open.
const (
	StoreMinConns = storeMinConns
	LockMinConns  = lockMinConns
)

// OpenConns is how many connections the store's main pool and its lock
// pool hold now.
func (s *Store) OpenConns() (main, locks int32) {
	return s.pool.Stat().TotalConns(), s.locks.Stat().TotalConns()
}
