package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"
)

// migrationFS holds the main database's migrations, inboxMigrationFS the
// inbox's (inbox.go); each has its files under "migrations".
var (
	//go:embed migrations/*.sql
	migrationFS embed.FS
	//go:embed inbox/migrations/*.sql
	inboxFiles       embed.FS
	inboxMigrationFS = mustSub(inboxFiles, "inbox")
)

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

// ErrNewerSchema: the database was migrated by a newer version of the
// program; this one does not know its schema and refuses to touch it.
var ErrNewerSchema = errors.New("database schema is newer than this program: upgrade the program")

// migration is one embedded file, migrations/NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the migrations of fsys (a directory "migrations"),
// checking they are numbered 1, 2, 3… without gaps.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, p := range names { // Glob sorts
		base := strings.TrimSuffix(path.Base(p), ".sql")
		num, name, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must be NNNN_name.sql", p)
		}
		if want := len(ms) + 1; v != want {
			return nil, fmt.Errorf("migration %s: version %d, want %d", p, v, want)
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	return ms, nil
}

// migrate applies the migrations db lacks, each in its own transaction with
// its schema_migrations row, so a crash leaves whole versions only. It is a
// no-op on an up-to-date database, and safe against another process doing
// the same at once (the version is re-read under the write lock).
func migrate(ctx context.Context, db *sql.DB, fsys fs.FS, now func() time.Time) error {
	ms, err := loadMigrations(fsys)
	if err != nil {
		return fmt.Errorf("error loading migrations: %w", err)
	}
	return applyMigrations(ctx, db, ms, now)
}

func applyMigrations(ctx context.Context, db *sql.DB, ms []migration, now func() time.Time) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("error creating schema_migrations: %w", err)
	}
	// Every step re-reads the version, so even with all known migrations
	// applied, a newer database is refused by the first.
	for _, m := range ms {
		if err := applyMigration(ctx, db, m, len(ms), now); err != nil {
			return err
		}
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.DB, m migration, latest int, now func() time.Time) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("error beginning migration %d: %w", m.version, err)
	}
	defer func() { _ = tx.Rollback() }()

	current, err := schemaVersion(ctx, tx)
	if err != nil {
		return err
	}
	if current > latest {
		return fmt.Errorf("%w (database version %d, program knows %d)", ErrNewerSchema, current, latest)
	}
	if current >= m.version {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("error applying migration %d (%s): %w", m.version, m.name, err)
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.version, m.name, nanos(now().UTC())); err != nil {
		return fmt.Errorf("error recording migration %d: %w", m.version, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("error committing migration %d: %w", m.version, err)
	}
	return nil
}

func schemaVersion(ctx context.Context, tx *sql.Tx) (int, error) {
	var v int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("error reading schema version: %w", err)
	}
	return v, nil
}
