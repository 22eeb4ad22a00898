package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/gitee-mirror/gitee-mirror/internal/store/riverdb"
)

// lockSpace is the first key of the store's advisory locks, so that they
// never meet River's or another program's. ("gmlk")
const lockSpace int32 = 0x676d6c6b

// Jobs is the job queue's database: this database, through River's
// Postgres driver, so that jobs and the store share it. Every replica sees
// the per-key locks: they are advisory locks, held on connections of a
// pool of their own so that a lock holder never waits for a connection a
// waiter holds; a replica that dies releases its locks with its
// connections.
func (s *Store) Jobs() *riverdb.DB[pgx.Tx] {
	s.jobsOnce.Do(func() {
		begin := func(ctx context.Context) (pgx.Tx, func(context.Context) error, func(context.Context) error, error) {
			tx, err := s.pool.Begin(ctx)
			if err != nil {
				return nil, nil, nil, err
			}
			return tx, tx.Commit, tx.Rollback, nil
		}
		s.jobs = riverdb.New(riverpgxv5.New(s.pool), begin, s.lockKey)
	})
	return s.jobs
}

// lockKey takes the advisory lock of key on a connection of the lock pool
// and returns its release.
func (s *Store) lockKey(ctx context.Context, key string) (func(), error) {
	return advisoryLock(ctx, s.locks, key)
}

// advisoryLock takes the advisory lock of key on a connection of pool,
// held until the returned release.
func advisoryLock(ctx context.Context, pool *pgxpool.Pool, key string) (func(), error) {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	id := int32(h.Sum32())
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("error taking the lock of %s: %w", key, err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, $2)`, lockSpace, id); err != nil {
		// A cancelled wait may leave the session unsure: not reused.
		_ = conn.Hijack().Close(context.Background())
		return nil, fmt.Errorf("error taking the lock of %s: %w", key, err)
	}
	return func() {
		var released bool
		err := conn.QueryRow(context.Background(), `SELECT pg_advisory_unlock($1, $2)`, lockSpace, id).Scan(&released)
		if err != nil || !released {
			// Closing the session releases whatever it holds.
			_ = conn.Hijack().Close(context.Background())
			return
		}
		conn.Release()
	}, nil
}

// openLocks opens the pool that holds advisory locks.
func openLocks(ctx context.Context, cfg *pgxpool.Config) (*pgxpool.Pool, error) {
	lc := cfg.Copy()
	lc.MaxConns = lockConns
	lc.MinConns = lockMinConns
	pool, err := pgxpool.NewWithConfig(ctx, lc)
	if err != nil {
		return nil, errors.New("error opening the lock connections")
	}
	return pool, nil
}
