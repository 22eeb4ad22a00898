package postgres_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/pgtest"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/gitee-mirror/gitee-mirror/internal/store/postgres"
)

// TestSaveRefStateWritesOnlyChanges: saving the state a mirror already has
// (what every no-op drift check does) leaves its rows as they were, and a
// save that moves one ref rewrites that row alone; a reconcile of 10,000
// mirrors used to delete and insert every row of every mirror.
func TestSaveRefStateWritesOnlyChanges(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	s, err := postgres.Open(t.Context(), db.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	if err := s.UpsertInstallation(ctx, store.Installation{ID: 1, Account: "a"}); err != nil {
		t.Fatal(err)
	}
	m := &store.Mirror{InstallationID: 1, GitHubRepoID: 1, A: store.Side{Owner: "a", Name: "r"}, B: store.Side{Owner: "b", Name: "r"}, Direction: store.AToB}
	if err := s.CreateMirror(ctx, m); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, db.URL())
	// xmin is the transaction that wrote a row version: unchanged, the row
	// was not written.
	versions := func() map[string]string {
		rows, err := conn.Query(ctx, `SELECT ref, xmin::text FROM ref_states WHERE mirror_id = $1`, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]string{}
		for rows.Next() {
			var ref, xmin string
			if err := rows.Scan(&ref, &xmin); err != nil {
				t.Fatal(err)
			}
			out[ref] = xmin
		}
		return out
	}
	state := map[string]string{"refs/heads/main": "1111", "refs/tags/v1": "2222"}
	if err := s.SaveRefState(ctx, m.ID, state); err != nil {
		t.Fatal(err)
	}
	first := versions()
	if err := s.SaveRefState(ctx, m.ID, state); err != nil {
		t.Fatal(err)
	}
	if again := versions(); again["refs/heads/main"] != first["refs/heads/main"] || again["refs/tags/v1"] != first["refs/tags/v1"] {
		t.Errorf("saving the same state rewrote rows: %v, then %v", first, again)
	}
	state["refs/heads/main"] = "3333"
	if err := s.SaveRefState(ctx, m.ID, state); err != nil {
		t.Fatal(err)
	}
	moved := versions()
	if moved["refs/heads/main"] == first["refs/heads/main"] || moved["refs/tags/v1"] != first["refs/tags/v1"] {
		t.Errorf("moving main: row versions %v, then %v; want main's alone rewritten", first, moved)
	}
}

// TestForwardLockExcludes: the forwarding lock of two replicas' inboxes is
// one lock: the second waits until the first lets go.
func TestForwardLockExcludes(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	var inboxes [2]*postgres.Inbox
	for i := range inboxes {
		in, err := postgres.OpenInbox(t.Context(), db.URL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = in.Close() })
		inboxes[i] = in
	}
	unlock, err := inboxes[0].LockForward(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		unlock2, err := inboxes[1].LockForward(t.Context())
		if err == nil {
			unlock2()
		}
		got <- err
	}()
	// The second one is waiting when Postgres shows its lock not granted.
	conn := connect(t, db.URL())
	for waiting := 0; waiting == 0; {
		if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-got:
			t.Fatalf("the second replica took the lock while the first held it (%v)", err)
		default:
		}
	}
	unlock()
	if err := <-got; err != nil {
		t.Fatalf("the second replica's LockForward: %v", err)
	}
}

// TestInboxBatchStatementsUseIndexes: the forwarder reads and marks
// handled up to webhook.DefaultBatch (1,000) deliveries at a time; in an
// inbox holding a day of handled deliveries, both statements go by index,
// not through the table.
func TestInboxBatchStatementsUseIndexes(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	in, err := postgres.OpenInbox(t.Context(), db.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	ctx := t.Context()
	conn := connect(t, db.URL())
	// 100,000 handled (payload dropped), then 5,000 pending.
	if _, err := conn.Exec(ctx, `
		INSERT INTO deliveries (source, id, event, payload, received_at, handled_at)
		SELECT 'github', 'h' || i, 'push', NULL, now(), now() FROM generate_series(1, 100000) i;
		INSERT INTO deliveries (source, id, event, payload, received_at)
		SELECT 'github', 'p' || i, 'push', '\x7b7d', now() FROM generate_series(1, 5000) i;
		ANALYZE deliveries`); err != nil {
		t.Fatal(err)
	}
	ds, err := in.Pending(ctx, 1000, 10)
	if err != nil || len(ds) != 1000 {
		t.Fatalf("Pending = %d deliveries, %v", len(ds), err)
	}
	seqs := make([]int64, len(ds))
	for i, d := range ds {
		seqs[i] = d.Seq
	}
	plan := func(q string, args ...any) string {
		rows, err := conn.Query(ctx, "EXPLAIN "+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				t.Fatal(err)
			}
			out = append(out, l)
		}
		return strings.Join(out, "\n")
	}
	// The statements of inbox.go, as they are sent.
	for name, p := range map[string]string{
		"Pending": plan(postgres.PendingSQL, 10, 1000),
		"Handled": plan(postgres.HandledSQL, time.Now(), seqs),
	} {
		if strings.Contains(p, "Seq Scan") || !strings.Contains(p, "Index") {
			t.Errorf("%s of 1,000 deliveries reads the whole table:\n%s", name, p)
		}
	}
	if err := in.Handled(ctx, seqs...); err != nil {
		t.Fatal(err)
	}
	if ds, err := in.Pending(ctx, 5000, 10); err != nil || len(ds) != 4000 {
		t.Fatalf("after Handled: %d pending, %v; want 4000", len(ds), err)
	}
}

// TestInboxKeepsItsConnectionsOpen: the inbox's pool opens all its
// connections soon after OpenInbox and keeps them, so that a burst of
// deliveries never waits for connections to be made (issue 13: the first
// seconds of the intake benchmark were the slowest by far).
func TestInboxKeepsItsConnectionsOpen(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	in, err := postgres.OpenInbox(t.Context(), db.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	waitOpen(t, func() string {
		if n := in.OpenConns(); n < postgres.InboxConns {
			return fmt.Sprintf("%d connections open 20 s after OpenInbox, want %d", n, postgres.InboxConns)
		}
		return ""
	})
}

// waitOpen polls short until returns "" (connections are opened in the
// background), and fails with its last answer after 20 s.
func waitOpen(t *testing.T, short func() string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		msg := short()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestStoreKeepsConnectionsOpen: the store's pool and its lock pool open
// the connections River, the workers and the leases of running syncs use
// soon after Open, so that the first burst of work after a restart does not
// wait for them (issue 13: with them opened under the burst, the first 5 s
// of the intake benchmark had a p99 of 196 ms against 25–50 ms after).
func TestStoreKeepsConnectionsOpen(t *testing.T) {
	t.Parallel()
	st := open(t, pgtest.New(t).URL(), nil)
	waitOpen(t, func() string {
		if main, locks := st.OpenConns(); main < postgres.StoreMinConns || locks < postgres.LockMinConns {
			return fmt.Sprintf("connections open 20 s after Open: %d and %d locks, want %d and %d",
				main, locks, postgres.StoreMinConns, postgres.LockMinConns)
		}
		return ""
	})
}
