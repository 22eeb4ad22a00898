package sqlite_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// TestRiverSharesDatabase runs River's migrations on the store's *sql.DB,
// as the jobs package does, and checks that both schemas live in one file
// and survive a reopen in either order.
func TestRiverSharesDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	s := open(t, path, nil)
	if err := s.UpsertInstallation(ctx, store.Installation{ID: 1, Account: "a"}); err != nil {
		t.Fatal(err)
	}

	migrator, err := rivermigrate.New(riversqlite.New(s.DB()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		t.Fatalf("River migrations on the store's database: %v", err)
	}
	s.Close()

	s = open(t, path, nil)
	rows, err := s.DB().Query(`SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	var river, ours int
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(name, "river_") {
			river++
		} else if name == "installations" || name == "schema_migrations" {
			ours++
		}
	}
	rows.Close()
	if river == 0 || ours != 2 {
		t.Errorf("tables: %d river_*, %d of ours; want both", river, ours)
	}
	if in, err := s.GetInstallation(ctx, 1); err != nil || in.Account != "a" {
		t.Errorf("GetInstallation after River migrated = %v, %v", in, err)
	}
	migrator, err = rivermigrate.New(riversqlite.New(s.DB()), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil || len(res.Versions) != 0 {
		t.Errorf("River migrations again: %d applied, %v; want none", len(res.Versions), err)
	}
}
