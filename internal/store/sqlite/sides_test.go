package sqlite

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// A database written before mirrors were two sides (schema version 3,
// directions "push" and "pull") opens without a person doing anything: its
// mirrors come back as side A on GitHub, side B on Gitee, and the direction
// naming the source side.
func TestMigrateOldMirrorsToSides(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := openDB(ctx, path, options{busyTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Unix(1, 0) }
	if err := applyMigrations(ctx, db, ms[:3], now); err != nil {
		t.Fatalf("old schema: %v", err)
	}
	for _, q := range []string{
		`INSERT INTO installations (id, account, account_type, created_at, updated_at) VALUES (7, 'octo', 'User', 1, 1)`,
		`INSERT INTO mirrors (installation_id, github_repo_id, github_owner, github_name, gitee_owner, gitee_name,
			direction, hook_id, gitee_hook_remote_id, created_at, updated_at)
			VALUES (7, 100, 'octo', 'pushed', 'acme', 'pushed-copy', 'push', 'hook-a', 0, 1, 1)`,
		`INSERT INTO mirrors (installation_id, github_repo_id, github_owner, github_name, gitee_owner, gitee_name,
			direction, hook_id, gitee_hook_remote_id, created_at, updated_at)
			VALUES (7, 101, 'octo', 'pulled', 'acme', 'upstream', 'pull', 'hook-b', 55, 1, 1)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	st, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatalf("opening the old database: %v", err)
	}
	defer st.Close()
	got, err := st.ListMirrors(ctx, store.MirrorFilter{InstallationID: 7})
	if err != nil || len(got) != 2 {
		t.Fatalf("ListMirrors = %d, %v; want 2", len(got), err)
	}
	tests := []struct {
		a, b      store.Side
		direction store.Direction
		word      string
		hook      int64
	}{
		{store.Side{Site: forge.GitHub, Owner: "octo", Name: "pushed"}, store.Side{Site: forge.Gitee, Owner: "acme", Name: "pushed-copy"}, store.AToB, "push", 0},
		{store.Side{Site: forge.GitHub, Owner: "octo", Name: "pulled"}, store.Side{Site: forge.Gitee, Owner: "acme", Name: "upstream"}, store.BToA, "pull", 55},
	}
	for i, tt := range tests {
		m := got[i]
		if m.A != tt.a || m.B != tt.b || m.Direction != tt.direction || m.Direction.Word() != tt.word || m.HookRemoteID != tt.hook {
			t.Errorf("mirror %d = A %+v, B %+v, %q (%s), hook %d; want %+v, %+v, %q (%s), %d",
				i, m.A, m.B, m.Direction, m.Direction.Word(), m.HookRemoteID, tt.a, tt.b, tt.direction, tt.word, tt.hook)
		}
	}
	if src := got[1].Source(); src != tests[1].b {
		t.Errorf("source of the pull mirror = %+v, want side B", src)
	}
}
