package sqlite_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/gitee-mirror/gitee-mirror/internal/store/sqlite"
)

func TestOpenConfiguresDatabase(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "a", "b", "state.db")
	s := open(t, path, nil)
	if s.Path() != path {
		t.Errorf("Path = %q, want %q", s.Path(), path)
	}
	if runtime.GOOS != "windows" {
		for _, p := range []string{filepath.Dir(path), path} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if perm := fi.Mode().Perm(); perm&0o077 != 0 {
				t.Errorf("%s has mode %v, want no access for others", p, perm)
			}
		}
	}
	if got := s.DB().Stats().MaxOpenConnections; got != 1 {
		t.Errorf("MaxOpenConnections = %d, want 1", got)
	}
	for pragma, want := range map[string]string{
		"journal_mode": "wal",
		"foreign_keys": "1",
		"synchronous":  "1", // NORMAL
		"busy_timeout": "5000",
	} {
		var got string
		if err := s.DB().QueryRow("PRAGMA " + pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", pragma, err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %q, want %q", pragma, got, want)
		}
	}
}

func TestOpenOptions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fixed := time.Date(2030, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600))
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "x.db"), nil,
		sqlite.WithBusyTimeout(1500*time.Millisecond), sqlite.WithClock(func() time.Time { return fixed }))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var busy int
	if err := s.DB().QueryRow("PRAGMA busy_timeout").Scan(&busy); err != nil || busy != 1500 {
		t.Errorf("busy_timeout = %d, %v; want 1500", busy, err)
	}
	if err := s.UpsertInstallation(ctx, store.Installation{ID: 1}); err != nil {
		t.Fatal(err)
	}
	in, err := s.GetInstallation(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !in.CreatedAt.Equal(fixed) || in.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v, want %v in UTC", in.CreatedAt, fixed)
	}
}

func TestOpenRejects(t *testing.T) {
	t.Parallel()
	for name, path := range map[string]string{
		"empty":         "",
		"question mark": filepath.Join(t.TempDir(), "a?b.db"),
		"dir is a file": filepath.Join(mustFile(t), "x.db"),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, err := sqlite.Open(context.Background(), path, nil)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q): no error", path)
			}
		})
	}
}

func mustFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOpenMemory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, ":memory:", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.UpsertInstallation(ctx, store.Installation{ID: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetInstallation(ctx, 1); err != nil {
		t.Errorf("GetInstallation: %v", err)
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "m.db")
	type row struct {
		version int
		name    string
		applied int64
	}
	read := func() []row {
		s := open(t, path, nil)
		defer s.Close()
		rows, err := s.DB().Query(`SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var rs []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.version, &r.name, &r.applied); err != nil {
				t.Fatal(err)
			}
			rs = append(rs, r)
		}
		return rs
	}
	first := read()
	if len(first) == 0 || first[0].version != 1 || first[0].name != "init" {
		t.Fatalf("schema_migrations = %+v", first)
	}
	second := read()
	if len(second) != len(first) || second[len(second)-1] != first[len(first)-1] {
		t.Errorf("reopen changed schema_migrations: %+v → %+v", first, second)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "n.db")
	s := open(t, path, nil)
	if _, err := s.DB().Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', 0)`); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := sqlite.Open(context.Background(), path, nil)
	if !errors.Is(err, sqlite.ErrNewerSchema) {
		if s2 != nil {
			s2.Close()
		}
		t.Fatalf("Open of a newer database: %v, want ErrNewerSchema", err)
	}
}
