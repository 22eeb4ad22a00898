// Package sqlite is the embedded store.Store backend: one SQLite file,
// through the pure-Go driver modernc.org/sqlite so the binary stays static.
//
// The database has one connection (db.SetMaxOpenConns(1)): SQLite allows
// one writer at a time, and River's SQLite driver, which shares the *sql.DB
// (see DB), asks for exactly this. Every statement therefore runs in turn;
// code here never uses the *sql.DB while it holds a transaction.
//
// Times are stored as unix nanoseconds (UTC; 0 means unset), booleans as
// 0/1, lists as JSON text, and secrets as secret.Box ciphertexts bound to
// their row by associated data.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/gitee-mirror/gitee-mirror/internal/secret"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/gitee-mirror/gitee-mirror/internal/store/riverdb"
)

// Store is the SQLite store.Store. It is safe for concurrent use.
type Store struct {
	db        *sql.DB
	path      string
	box       *secret.Box // nil: secrets cannot be stored or read
	now       func() time.Time
	keepRuns  int
	closeOnce sync.Once
	closeErr  error
	jobsOnce  sync.Once
	jobs      *riverdb.DB[*sql.Tx]
}

var _ store.Store = (*Store)(nil)

// Option configures Open.
type Option func(*options)

type options struct {
	busyTimeout time.Duration
	keepRuns    int
	now         func() time.Time
}

// WithBusyTimeout sets how long a statement waits for a lock held by another
// process (the sqlite3 shell, a backup) before failing. Default 5s.
func WithBusyTimeout(d time.Duration) Option {
	return func(o *options) { o.busyTimeout = d }
}

// WithKeepRuns sets how many finished runs per mirror are kept (default
// store.DefaultKeepRuns).
func WithKeepRuns(n int) Option {
	return func(o *options) { o.keepRuns = n }
}

// WithClock replaces time.Now for the times the store records itself
// (created/updated times, delivery times, defaults of run times).
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// memory is SQLite's name for a private in-memory database; with one
// connection that never expires it lives as long as the Store.
const memory = ":memory:"

// Open opens (creating if needed) the database file at path, applies the
// store's schema migrations and returns the Store. It creates the file's
// directory (mode 0700) and the file itself (mode 0600, inherited by the
// -wal and -shm files). box seals and opens secrets; with a nil box the
// store works but storing a secret fails with store.ErrNoKey.
//
// A database written by a newer version of the program is refused
// (ErrNewerSchema).
func Open(ctx context.Context, path string, box *secret.Box, opts ...Option) (*Store, error) {
	o := options{busyTimeout: 5 * time.Second, now: time.Now, keepRuns: store.DefaultKeepRuns}
	for _, opt := range opts {
		opt(&o)
	}
	db, err := openDB(ctx, path, o)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, path: path, box: box, now: o.now, keepRuns: o.keepRuns}
	if err := migrate(ctx, db, migrationFS, s.now); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("error opening database %s: %w", path, err)
	}
	return s, nil
}

// dsn is the driver's data source name: the path, then connection settings
// applied to every new connection.
func dsn(path string, busy time.Duration) string {
	q := []string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", busy.Milliseconds()),
		"_pragma=journal_mode(WAL)",
		"_pragma=foreign_keys(1)",
		"_pragma=synchronous(NORMAL)",
		// Take the write lock when a transaction begins rather than at its
		// first write: a deferred transaction that reads, then writes, fails
		// with SQLITE_BUSY instead of waiting when another process writes.
		"_txlock=immediate",
	}
	return path + "?" + strings.Join(q, "&")
}

// createFile makes path's directory and an empty file with private modes,
// so that SQLite (which keeps a file's mode for its -wal and -shm files)
// never makes the database readable to other users.
func createFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("error creating database directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("error creating database file: %w", err)
	}
	return f.Close()
}

// openDB opens the file at path (creating it and its directory with private
// modes) on one connection and checks the connection settings took effect.
func openDB(ctx context.Context, path string, o options) (*sql.DB, error) {
	if path == "" {
		return nil, errors.New("error opening database: empty path")
	}
	if strings.ContainsRune(path, '?') {
		// The driver splits its options off at the first '?'.
		return nil, fmt.Errorf("error opening database %q: the path must not contain '?'", path)
	}
	if path != memory {
		if err := createFile(path); err != nil {
			return nil, err
		}
	}
	db, err := sql.Open("sqlite", dsn(path, o.busyTimeout))
	if err != nil {
		return nil, fmt.Errorf("error opening database %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := checkSettings(ctx, db, path); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("error opening database %s: %w", path, err)
	}
	return db, nil
}

// checkSettings checks the connection settings took effect.
func checkSettings(ctx context.Context, db *sql.DB, path string) error {
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("error reading journal mode: %w", err)
	}
	if want := "wal"; path != memory && !strings.EqualFold(mode, want) {
		return fmt.Errorf("journal mode is %q, want %q", mode, want)
	}
	var fk bool
	if err := db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
		return fmt.Errorf("error reading foreign_keys: %w", err)
	}
	if !fk {
		return errors.New("foreign keys are off")
	}
	return nil
}

// DB is the underlying database, for River's SQLite driver (riversqlite)
// to share: one file, one connection. Do not change its pool settings.
func (s *Store) DB() *sql.DB { return s.db }

// Path is the database file's path (":memory:" for an in-memory database).
func (s *Store) Path() string { return s.path }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("error pinging database: %w", err)
	}
	return nil
}

// Close closes the database; later calls return the first call's result.
// River must be stopped first when it shares DB.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.db.Close() })
	return s.closeErr
}

// tx runs fn in a transaction, committing when fn returns nil.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("error beginning transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("error committing transaction: %w", err)
	}
	return nil
}

// nowTime is the store's clock, in UTC.
func (s *Store) nowTime() time.Time { return s.now().UTC() }
