// Package postgres is the store.Store and store.Inbox backend for several
// App replicas: one PostgreSQL database, through pgx, shared with River's
// Postgres driver (riverpgxv5, see Pool).
//
// The schema is migrated by every Open and OpenInbox, under an advisory
// lock, so that replicas starting together (a rolling upgrade) apply each
// migration once; a database migrated by a newer version is refused
// (ErrNewerSchema). Secrets are secret.Box ciphertexts bound to their row
// by associated data, as in the SQLite backend. The connection URL and the
// password are never put in an error or a log line.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gitee-mirror/gitee-mirror/internal/secret"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/gitee-mirror/gitee-mirror/internal/store/riverdb"
)

// Pool sizes, at most: the main pool and the inbox's, unless
// pool_max_conns or WithMaxConns says otherwise, the pool of advisory
// locks, and the inbox's forwarding lock (one more). A replica opens up to
// 23 connections: size max_connections for the replicas you run (README).
const (
	defaultConns = 10
	inboxConns   = 6
	lockConns    = 6
)

// Connections kept open from the start (the rest are opened when needed):
// River's listener and producer, the workers' job updates and the leases
// of running syncs. A connection is a process forked on the database
// server and an authentication exchange; opened under a burst of work,
// the ones a replica lacked after a restart made the first seconds of
// issue 13's intake benchmark the slowest by far.
const (
	storeMinConns = 6
	lockMinConns  = 4
)

// Store is the Postgres store.Store. It is safe for concurrent use.
type Store struct {
	pool      *pgxpool.Pool
	locks     *pgxpool.Pool // advisory locks only (jobs.go)
	box       *secret.Box   // nil: secrets cannot be stored or read
	now       func() time.Time
	keepRuns  int
	closeOnce sync.Once
	jobsOnce  sync.Once
	jobs      *riverdb.DB[pgx.Tx]
}

var _ store.Store = (*Store)(nil)

// Option configures Open and OpenInbox.
type Option func(*options)

type options struct {
	password string
	maxConns int32
	minConns int32 // kept open (OpenInbox)
	keepRuns int
	now      func() time.Time
}

// WithPassword sets the password, overriding one in the URL (it comes from
// GITEE_MIRROR_DATABASE_PASSWORD_FILE, so it stays out of the URL).
func WithPassword(pw string) Option {
	return func(o *options) { o.password = pw }
}

// WithMaxConns caps the pool's connections (default: pgx's, or
// pool_max_conns in the URL).
func WithMaxConns(n int32) Option {
	return func(o *options) { o.maxConns = n }
}

// WithKeepRuns sets how many finished runs per mirror are kept (default
// store.DefaultKeepRuns).
func WithKeepRuns(n int) Option {
	return func(o *options) { o.keepRuns = n }
}

// WithClock replaces time.Now for the times the store records itself.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// Open connects to the database at url (postgres://…; TLS settings such as
// sslmode, sslrootcert in its query as libpq spells them), applies the
// schema migrations and returns the Store. box seals and opens secrets;
// with a nil box storing a secret fails with store.ErrNoKey.
func Open(ctx context.Context, url string, box *secret.Box, opts ...Option) (*Store, error) {
	pool, o, err := connect(ctx, url, append([]Option{func(o *options) { o.minConns = storeMinConns }}, opts...))
	if err != nil {
		return nil, err
	}
	locks, err := openLocks(ctx, pool.Config())
	if err != nil {
		pool.Close()
		return nil, err
	}
	return &Store{pool: pool, locks: locks, box: box, now: o.now, keepRuns: o.keepRuns}, nil
}

// connect opens a pool on url, checks it answers and migrates the schema.
func connect(ctx context.Context, url string, opts []Option) (*pgxpool.Pool, options, error) {
	o := options{now: time.Now, keepRuns: store.DefaultKeepRuns}
	for _, opt := range opts {
		opt(&o)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message may quote the URL: say what is wrong without it.
		return nil, o, errors.New("error parsing GITEE_MIRROR_DATABASE_URL: not a valid postgres:// URL or its settings are wrong (see the libpq connection URI format)")
	}
	if o.password != "" {
		cfg.ConnConfig.Password = o.password
	}
	switch {
	case o.maxConns > 0:
		cfg.MaxConns = o.maxConns
	case !strings.Contains(url, "pool_max_conns"):
		// River's listener and producer keep connections; the workers,
		// the pages and the intake need more than pgx's default of 4.
		cfg.MaxConns = defaultConns
	}
	if o.minConns > 0 && !strings.Contains(url, "pool_min_conns") {
		cfg.MinConns = min(o.minConns, cfg.MaxConns)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, o, fmt.Errorf("error connecting to the database: %w", err)
	}
	if err := migrate(ctx, pool, o.now); err != nil {
		pool.Close()
		return nil, o, fmt.Errorf("error opening database %s on %s: %w", cfg.ConnConfig.Database, cfg.ConnConfig.Host, err)
	}
	return pool, o, nil
}

// Pool is the connection pool, for River's Postgres driver (riverpgxv5) to
// share: jobs and the store in one database.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := ping(ctx, s.pool); err != nil {
		return fmt.Errorf("error pinging database: %w", err)
	}
	return nil
}

func ping(ctx context.Context, pool *pgxpool.Pool) error {
	var one int
	return pool.QueryRow(ctx, "SELECT 1").Scan(&one)
}

// Close closes the pool; later calls do nothing. River must be stopped
// first when it shares Pool.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.locks.Close(); s.pool.Close() })
	return nil
}

// tx runs fn in a transaction, committing when fn returns nil.
func (s *Store) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// nowTime is the store's clock, in UTC, at the database's precision.
func (s *Store) nowTime() time.Time { return s.now().UTC().Truncate(time.Microsecond) }
