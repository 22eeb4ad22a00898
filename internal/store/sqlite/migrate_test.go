package sqlite

import (
	"database/sql"
	"errors"
	"testing"
	"testing/fstest"
	"time"
)

func TestLoadMigrations(t *testing.T) {
	t.Parallel()
	ms, err := loadMigrations(migrationFS)
	if err != nil || len(ms) == 0 {
		t.Fatalf("embedded migrations: %d, %v", len(ms), err)
	}
	file := &fstest.MapFile{Data: []byte("SELECT 1;")}
	tests := map[string]struct {
		files []string
		ok    bool
	}{
		"in order":  {[]string{"0001_a.sql", "0002_b.sql", "0003_c.sql"}, true},
		"gap":       {[]string{"0001_a.sql", "0003_c.sql"}, false},
		"no first":  {[]string{"0002_b.sql"}, false},
		"duplicate": {[]string{"0001_a.sql", "0001_b.sql"}, false},
		"no number": {[]string{"init.sql"}, false},
		"zero":      {[]string{"0000_a.sql"}, false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fsys := fstest.MapFS{}
			for _, f := range tt.files {
				fsys["migrations/"+f] = file
			}
			ms, err := loadMigrations(fsys)
			if (err == nil) != tt.ok {
				t.Fatalf("loadMigrations(%v) = %d, %v; ok %v", tt.files, len(ms), err, tt.ok)
			}
			if tt.ok && len(ms) != len(tt.files) {
				t.Errorf("loaded %d of %d", len(ms), len(tt.files))
			}
		})
	}
}

func TestApplyMigrationsAtomic(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	now := func() time.Time { return time.Unix(1, 0) }
	good := migration{version: 1, name: "a", sql: "CREATE TABLE a (x INTEGER);"}
	bad := migration{version: 2, name: "b", sql: "CREATE TABLE b (x INTEGER); INSERT INTO nowhere VALUES (1);"}

	if err := applyMigrations(ctx, db, []migration{good, bad}, now); err == nil {
		t.Fatal("a failing migration: no error")
	}
	var version int
	if err := db.QueryRow(`SELECT MAX(version) FROM schema_migrations`).Scan(&version); err != nil || version != 1 {
		t.Errorf("schema version = %d, %v; want 1", version, err)
	}
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE name = 'b'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("half-applied migration left table b (%d, %v)", n, err)
	}

	bad.sql = "CREATE TABLE b (x INTEGER);"
	if err := applyMigrations(ctx, db, []migration{good, bad}, now); err != nil {
		t.Fatalf("fixed migration: %v", err)
	}
	if err := applyMigrations(ctx, db, []migration{good}, now); !errors.Is(err, ErrNewerSchema) {
		t.Errorf("older program on a newer database: %v, want ErrNewerSchema", err)
	}
}
