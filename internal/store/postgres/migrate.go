package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// ErrNewerSchema: the database was migrated by a newer version of the
// program; this one does not know its schema and refuses to touch it.
var ErrNewerSchema = errors.New("database schema is newer than this program: upgrade the program")

// migrationLock is the advisory lock key held while migrating, so that
// replicas starting at once apply each migration once. ("gm-schm")
const migrationLock int64 = 0x676d2d7363686d

// migrationsTable records applied versions. Not "schema_migrations": the
// database may be shared with other programs.
const migrationsTable = "gitee_mirror_migrations"

// migration is one embedded file, migrations/NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the migrations of fsys, checking they are numbered
// 1, 2, 3… without gaps.
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

// migrate applies the migrations the database lacks, all in one
// transaction that holds the migration lock: Postgres DDL is transactional,
// so a crash leaves no half-applied version, and a replica that waited for
// the lock finds the work done.
func migrate(ctx context.Context, pool *pgxpool.Pool, now func() time.Time) error {
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		return fmt.Errorf("error loading migrations: %w", err)
	}
	return applyMigrations(ctx, pool, ms, now)
}

func applyMigrations(ctx context.Context, pool *pgxpool.Pool, ms []migration, now func() time.Time) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return fmt.Errorf("error taking the migration lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+migrationsTable+` (
			version    integer     PRIMARY KEY,
			name       text        NOT NULL,
			applied_at timestamptz NOT NULL
		)`); err != nil {
			return fmt.Errorf("error creating %s: %w", migrationsTable, err)
		}
		var current int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM `+migrationsTable).Scan(&current); err != nil {
			return fmt.Errorf("error reading schema version: %w", err)
		}
		if current > len(ms) {
			return fmt.Errorf("%w (database version %d, program knows %d)", ErrNewerSchema, current, len(ms))
		}
		for _, m := range ms[current:] {
			// No arguments: the simple protocol, which runs a file of
			// several statements.
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("error applying migration %d (%s): %w", m.version, m.name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO `+migrationsTable+` (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.version, m.name, now().UTC()); err != nil {
				return fmt.Errorf("error recording migration %d: %w", m.version, err)
			}
		}
		return nil
	})
}
