package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"

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
		s.jobs = riverdb.New(riverpgxv5.New(s.pool), begin, s.lockKey, s.lockKeys)
	})
	return s.jobs
}

// lockKey takes the advisory lock of key on a connection of the lock pool
// and returns its release.
func (s *Store) lockKey(ctx context.Context, key string) (func(), error) {
	return advisoryLock(ctx, s.locks, key)
}

// lockKeys takes the advisory locks of keys (sorted, without repeats) on
// one connection of the lock pool, in one statement, and returns their
// release. Locks are taken in the order of their 32-bit ids, whatever the
// keys' order: two keys with the same id are one lock, taken once.
func (s *Store) lockKeys(ctx context.Context, keys []string) (func(), error) {
	ids := make([]int32, len(keys))
	for i, k := range keys {
		ids[i] = lockID(k)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	what := fmt.Sprintf("locks of %d keys", len(keys))
	if len(keys) > 0 {
		what = fmt.Sprintf("locks of %d keys (%s, …)", len(keys), keys[0])
	}
	// Postgres evaluates a volatile function of the select list after the
	// ORDER BY: the locks are taken in the ids' order.
	return holdLocks(ctx, s.locks, what,
		`SELECT pg_advisory_lock($1, k) FROM unnest($2::int4[]) WITH ORDINALITY AS u(k, o) ORDER BY o`,
		`SELECT coalesce(bool_and(pg_advisory_unlock($1, k)), true) FROM unnest($2::int4[]) AS k`,
		lockSpace, ids)
}

// lockID is the second key of key's advisory lock.
func lockID(key string) int32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return int32(h.Sum32())
}

// advisoryLock takes the advisory lock of key on a connection of pool,
// held until the returned release.
func advisoryLock(ctx context.Context, pool *pgxpool.Pool, key string) (func(), error) {
	return holdLocks(ctx, pool, "lock of "+key,
		`SELECT pg_advisory_lock($1, $2)`, `SELECT pg_advisory_unlock($1, $2)`, lockSpace, lockID(key))
}

// holdLocks takes advisory locks with the statement take on a connection
// of pool and returns their release, the statement release, which answers
// whether all were held; both get args. When either fails the session is
// closed, which releases whatever it holds (a cancelled wait may leave it
// unsure). what names the locks in errors.
func holdLocks(ctx context.Context, pool *pgxpool.Pool, what, take, release string, args ...any) (func(), error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("error taking the %s: %w", what, err)
	}
	if _, err := conn.Exec(ctx, take, args...); err != nil {
		_ = conn.Hijack().Close(context.Background())
		return nil, fmt.Errorf("error taking the %s: %w", what, err)
	}
	return func() {
		var released bool
		err := conn.QueryRow(context.Background(), release, args...).Scan(&released)
		if err != nil || !released {
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
