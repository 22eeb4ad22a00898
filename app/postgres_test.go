package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/gitee-mirror/gitee-mirror/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestRunOnPostgres starts the App on a Postgres database with the password
// in GITEE_MIRROR_DATABASE_PASSWORD_FILE: it serves, its store, inbox and
// job queue live in that database, River UI shows the queue to the admin
// token, and the password is in none of its output.
func TestRunOnPostgres(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	pwFile := filepath.Join(t.TempDir(), "db-password")
	if err := os.WriteFile(pwFile, []byte(db.Password()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base, logs, stop := start(t, map[string]string{
		"GITEE_MIRROR_DATABASE_URL":           db.URLWithoutPassword(),
		"GITEE_MIRROR_DATABASE_PASSWORD_FILE": pwFile,
		"GITEE_MIRROR_SECRET_KEY":             strings.Repeat("ab", 32),
		"GITEE_MIRROR_ADMIN_TOKEN":            "admin-token-for-the-queue-ui",
	})
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		if code, body := get(t, base+path); code != http.StatusOK {
			t.Errorf("GET %s = %d: %s", path, code, body)
		}
	}
	// River UI over the Postgres queue, behind the admin token.
	req, _ := http.NewRequest(http.MethodGet, base+"/admin/queue/api/jobs?state=available", nil)
	req.SetBasicAuth("operator", "admin-token-for-the-queue-ui")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /admin/queue/api/jobs with the admin token = %d, want 200", resp.StatusCode)
	}

	if err := stop(); err != nil {
		t.Fatalf("run: %v\n%s", err, logs)
	}
	if strings.Contains(logs.String(), db.Password()) {
		t.Errorf("the database password is in the logs:\n%s", logs)
	}

	conn, err := pgx.Connect(t.Context(), db.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	for _, table := range []string{"mirrors", "deliveries", "one_time_states", "river_job", "river_leader"} {
		var ok bool
		if err := conn.QueryRow(t.Context(), `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&ok); err != nil || !ok {
			t.Errorf("table %s missing from the database (%v)", table, err)
		}
	}
}
