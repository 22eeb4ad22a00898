package pgtest_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/gitee-mirror/gitee-mirror/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestDatabase checks that each test gets its own empty database, reachable
// over TCP with the password and over the socket, and that a database
// outlives nothing: a table made in one is absent from the next.
func TestDatabase(t *testing.T) {
	t.Parallel()
	tests := map[string]func(*pgtest.Database) string{
		"tcp":    (*pgtest.Database).URL,
		"socket": (*pgtest.Database).SocketURL,
	}
	for name, url := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db := pgtest.New(t)
			conn, err := pgx.Connect(t.Context(), url(db))
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			defer conn.Close(t.Context())
			var got string
			if err := conn.QueryRow(t.Context(), "SELECT current_database()").Scan(&got); err != nil || got != db.Name() {
				t.Fatalf("current_database() = %q, %v; want %q", got, err, db.Name())
			}
			var tables int
			if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&tables); err != nil || tables != 0 {
				t.Fatalf("fresh database has %d tables (%v), want 0", tables, err)
			}
			if _, err := conn.Exec(t.Context(), "CREATE TABLE left_behind (x int)"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestPasswordRequired checks that TCP connections need the password, so
// that the store's password-file tests prove something.
func TestPasswordRequired(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	_, err := pgx.Connect(t.Context(), db.URLWithoutPassword())
	if err == nil || !strings.Contains(err.Error(), "password") {
		t.Fatalf("connect without the password: %v; want a password failure", err)
	}
	if strings.Contains(db.URLWithoutPassword(), db.Password()) {
		t.Fatal("URLWithoutPassword holds the password")
	}
}

// TestUnavailableFailsOnCI runs this binary again with no PostgreSQL to be
// found, with and without CI, and checks it skips or fails accordingly.
func TestUnavailableFailsOnCI(t *testing.T) {
	if os.Getenv("PGTEST_CHILD") != "" {
		pgtest.New(t)
		return
	}
	t.Parallel()
	for name, tt := range map[string]struct {
		ci   string
		want string
	}{
		"local skips": {"", "--- SKIP"},
		"CI fails":    {"true", "--- FAIL"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cmd := pgtestChild(t, tt.ci)
			out, _ := cmd.CombinedOutput()
			if !strings.Contains(string(out), tt.want) || !strings.Contains(string(out), "initdb") {
				t.Errorf("output:\n%s\nwant %q and the reason (no initdb)", out, tt.want)
			}
		})
	}
}

// pgtestChild runs TestUnavailableFailsOnCI of this binary again with an
// empty PGTEST_BIN, CI set to ci.
func pgtestChild(t *testing.T, ci string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestUnavailableFailsOnCI$", "-test.v")
	cmd.Env = append(os.Environ(), "PGTEST_CHILD=1", "PGTEST_BIN="+t.TempDir(), "CI="+ci)
	return cmd
}
