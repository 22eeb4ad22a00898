package postgres_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/gitee-mirror/gitee-mirror/internal/pgtest"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/gitee-mirror/gitee-mirror/internal/store/postgres"
)

// TestMigrateConcurrently opens one fresh database from several "replicas"
// at once: every Open succeeds and each migration is applied once.
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	const replicas = 6
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() {
			var s interface{ Close() error }
			if i%2 == 0 {
				s, errs[i] = postgres.Open(t.Context(), db.URL(), nil)
			} else {
				s, errs[i] = postgres.OpenInbox(t.Context(), db.URL())
			}
			if errs[i] == nil {
				_ = s.Close()
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
	conn := connect(t, db.URL())
	var rows, versions int
	if err := conn.QueryRow(t.Context(), `SELECT count(*), count(DISTINCT version) FROM gitee_mirror_migrations`).Scan(&rows, &versions); err != nil {
		t.Fatal(err)
	}
	if rows == 0 || rows != versions {
		t.Errorf("gitee_mirror_migrations: %d rows for %d versions; want each version once", rows, versions)
	}
}

// TestMigrateJobsConcurrently: replicas starting together each migrate
// River's tables (their job queues start), and none fails on an object
// another one is creating.
func TestMigrateJobsConcurrently(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	const replicas = 4
	stores := make([]*postgres.Store, replicas)
	for i := range stores {
		s, err := postgres.Open(t.Context(), db.URL(), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		stores[i] = s
	}
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() { errs[i] = s.Jobs().MigrateJobs(t.Context(), nil) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
}

// TestNewerSchemaRefused: a database migrated by a newer program is not
// touched by an older one (a rolling upgrade's old replicas restart).
func TestNewerSchemaRefused(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	s, err := postgres.Open(t.Context(), db.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	conn := connect(t, db.URL())
	if _, err := conn.Exec(t.Context(), `INSERT INTO gitee_mirror_migrations (version, name, applied_at) VALUES (999, 'future', now())`); err != nil {
		t.Fatal(err)
	}
	_, err = postgres.Open(t.Context(), db.URL(), nil)
	if !errors.Is(err, postgres.ErrNewerSchema) {
		t.Fatalf("Open = %v, want ErrNewerSchema", err)
	}
}

// TestPassword: the password comes from WithPassword (the _FILE variable)
// when the URL has none, and never appears in an error.
func TestPassword(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	const canary = "canary-wrong-pw-3e8d1a"
	tests := map[string]struct {
		url  string
		opts []postgres.Option
		ok   bool
	}{
		"from the option":         {db.URLWithoutPassword(), []postgres.Option{postgres.WithPassword(db.Password())}, true},
		"wrong one":               {db.URLWithoutPassword(), []postgres.Option{postgres.WithPassword(canary)}, false},
		"the option wins":         {strings.Replace(db.URL(), db.Password(), canary, 1), []postgres.Option{postgres.WithPassword(db.Password())}, true},
		"wrong one in the URL":    {strings.Replace(db.URL(), db.Password(), canary, 1), nil, false},
		"unparsable URL":          {"postgres://u:" + canary + "@[::1/db?sslmode=bogus", nil, false},
		"TLS the server lacks":    {strings.Replace(db.URL(), "sslmode=disable", "sslmode=require", 1), nil, false},
		"unknown setting in URL":  {db.URL() + "&sslmode=sometimes-" + canary, nil, false},
		"no password at all":      {db.URLWithoutPassword(), nil, false},
		"socket, password unused": {db.SocketURL(), []postgres.Option{postgres.WithPassword(canary)}, true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, err := postgres.Open(t.Context(), tt.url, nil, tt.opts...)
			if tt.ok {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				defer s.Close()
				if err := s.Ping(t.Context()); err != nil {
					t.Fatalf("Ping: %v", err)
				}
				return
			}
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			for _, secret := range []string{canary, db.Password()} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error holds a password: %v", err)
				}
			}
		})
	}
}

// TestRunsIndexed: the queries of the pages and jobs use an index, not a
// scan of a table that grows with every sync.
func TestRunsIndexed(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	s, err := postgres.Open(t.Context(), db.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.UpsertInstallation(t.Context(), store.Installation{ID: 1, Account: "a"}); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, db.URL())
	if _, err := conn.Exec(t.Context(), `SET enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	for name, q := range map[string]string{
		"runs of a mirror":    `SELECT id FROM sync_runs WHERE mirror_id = 1 ORDER BY started_at DESC, id DESC LIMIT 20`,
		"mirrors of a repo":   `SELECT id FROM mirrors WHERE github_repo_id = 1`,
		"mirror by hook id":   `SELECT id FROM mirrors WHERE hook_id = 'x'`,
		"pending deliveries":  `SELECT seq FROM deliveries WHERE handled_at IS NULL AND attempts < 3 ORDER BY seq LIMIT 64`,
		"prunable deliveries": `SELECT seq FROM deliveries WHERE handled_at IS NOT NULL AND received_at < now()`,
		"ref state":           `SELECT ref FROM ref_states WHERE mirror_id = 1`,
	} {
		var plan strings.Builder
		rows, err := conn.Query(t.Context(), "EXPLAIN "+q)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for rows.Next() {
			var line string
			_ = rows.Scan(&line)
			plan.WriteString(line + "\n")
		}
		rows.Close()
		if strings.Contains(plan.String(), "Seq Scan") {
			t.Errorf("%s scans the table:\n%s", name, plan.String())
		}
	}
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}
