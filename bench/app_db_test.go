package bench

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gitee-mirror/gitee-mirror/internal/config"
	"github.com/gitee-mirror/gitee-mirror/internal/secret"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/gitee-mirror/gitee-mirror/internal/store/postgres"
	"github.com/gitee-mirror/gitee-mirror/internal/store/sqlite"
	"github.com/gitee-mirror/gitee-mirror/internal/webhook"
)

// benchDB is the App's database as the benchmark reads it: SQLite files
// while the App is stopped, or the Postgres database at any time.
type benchDB struct {
	store.Store
	inbox store.Inbox
	// query runs one statement and scans its single row.
	query func(ctx context.Context, dest []any, sql string, args ...any) error
	// deliveries maps each GitHub delivery id in the inbox to the time
	// from its receipt to its handling, -1 while it is pending.
	deliveries func(ctx context.Context) (map[string]time.Duration, error)
	pg         *postgres.Store // nil on SQLite
	close      func()
}

// benchBox seals and opens secrets as the App does, with its key.
func benchBox() *secret.Box {
	key, err := secret.ParseKey(appSecretKeyHex)
	if err != nil {
		panic(err)
	}
	box, err := secret.NewBox(key)
	if err != nil {
		panic(err)
	}
	return box
}

// openDB opens the App's database (on SQLite the App must be stopped).
func (a *appBench) openDB() *benchDB {
	a.b.Helper()
	ctx := context.Background()
	if a.pg != nil {
		st, err := postgres.Open(ctx, a.pg.URL(), benchBox())
		if err != nil {
			a.b.Fatalf("opening the App's database: %v", err)
		}
		inbox, err := postgres.OpenInbox(ctx, a.pg.URL())
		if err != nil {
			a.b.Fatalf("opening the App's webhook inbox: %v", err)
		}
		pool := st.Pool()
		return &benchDB{
			Store: st, inbox: inbox, pg: st,
			query: func(ctx context.Context, dest []any, q string, args ...any) error {
				return pool.QueryRow(ctx, q, args...).Scan(dest...)
			},
			deliveries: func(ctx context.Context) (map[string]time.Duration, error) {
				rows, err := pool.Query(ctx, `SELECT id, received_at, handled_at FROM deliveries WHERE source = $1`, webhook.SourceGitHub)
				if err != nil {
					return nil, err
				}
				defer rows.Close()
				out := map[string]time.Duration{}
				for rows.Next() {
					var id string
					var received time.Time
					var handled *time.Time
					if err := rows.Scan(&id, &received, &handled); err != nil {
						return nil, err
					}
					out[id] = -1
					if handled != nil {
						out[id] = handled.Sub(received)
					}
				}
				return out, rows.Err()
			},
			close: func() { inbox.Close(); st.Close() },
		}
	}
	path := filepath.Join(a.reps[0].dataDir, config.DefaultDatabaseFile)
	st, err := sqlite.Open(ctx, path, benchBox())
	if err != nil {
		a.b.Fatalf("opening the App's database: %v", err)
	}
	inboxPath := sqlite.InboxPath(path)
	inbox, err := sqlite.OpenInbox(ctx, inboxPath)
	if err != nil {
		a.b.Fatalf("opening the App's webhook inbox: %v", err)
	}
	idb, err := sql.Open("sqlite", inboxPath)
	if err != nil {
		a.b.Fatal(err)
	}
	return &benchDB{
		Store: st, inbox: inbox,
		query: func(ctx context.Context, dest []any, q string, args ...any) error {
			return st.DB().QueryRowContext(ctx, q, args...).Scan(dest...)
		},
		deliveries: func(ctx context.Context) (map[string]time.Duration, error) {
			rows, err := idb.QueryContext(ctx, `SELECT id, received_at, handled_at FROM deliveries WHERE source = ?`, webhook.SourceGitHub)
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			out := map[string]time.Duration{}
			for rows.Next() {
				var id string
				var received, handled int64
				if err := rows.Scan(&id, &received, &handled); err != nil {
					return nil, err
				}
				out[id] = -1
				if handled != 0 {
					out[id] = time.Duration(handled - received)
				}
			}
			return out, rows.Err()
		},
		close: func() { idb.Close(); inbox.Close(); st.Close() },
	}
}

// requestSeqs is every mirror's sync request counter, by repository index.
func (a *appBench) requestSeqs() []int64 {
	a.b.Helper()
	db := a.openDB()
	defer db.close()
	ms, err := db.ListMirrors(context.Background(), store.MirrorFilter{})
	if err != nil {
		a.b.Fatal(err)
	}
	seqs := make([]int64, len(a.repos))
	for _, m := range ms {
		for i, r := range a.repos {
			if m.A.Name == r.name {
				seqs[i] = m.RequestSeq
			}
		}
	}
	return seqs
}

// lastRunID is the id of the latest sync run recorded: ids only grow
// (identity, AUTOINCREMENT), so the difference of two readings counts the
// runs started between them, pruned ones (store.DefaultKeepRuns a mirror)
// included. On SQLite the App must be stopped.
func (a *appBench) lastRunID() int64 {
	a.b.Helper()
	db := a.openDB()
	defer db.close()
	var id int64
	if err := db.query(context.Background(), []any{&id}, `SELECT coalesce(max(id), 0) FROM sync_runs`); err != nil {
		a.b.Fatal(err)
	}
	return id
}

// lossReport is what the database says about the deliveries of the load.
type lossReport struct {
	lost  int
	lines []string
}

// checkNoLoss looks in the stopped App's database for every delivery of
// the load and what it asked for.
// runs says how many syncs ran.
// warm are the deliveries of a warm-up before the load: they are looked for
// in the inbox too.
func (a *appBench) checkNoLoss(results, warm []intakeResult, before, sentTo []int64, lastSent []time.Time, runs string) lossReport {
	a.b.Helper()
	ctx := context.Background()
	db := a.openDB()
	defer db.close()
	var rep lossReport

	// 1. Every delivery is in the inbox, and its work was done.
	handledAfter, err := db.deliveries(ctx)
	if err != nil {
		a.b.Fatalf("reading the webhook inbox: %v", err)
	}
	missing, unhandled, forwardLag := inboxState(results, handledAfter)
	if len(warm) > 0 {
		wmissing, wunhandled, _ := inboxState(warm, handledAfter)
		rep.lost += wmissing + wunhandled
		rep.lines = append(rep.lines, fmt.Sprintf("warm-up deliveries recorded in the inbox: %d of %d; still pending after the graceful stop: %d",
			len(warm)-wmissing, len(warm), wunhandled))
	}
	// The inbox's own word for a sample: a re-delivery is a duplicate.
	dupes, sampled := 0, 0
	for i := 0; i < len(results); i += max(1, len(results)/100) {
		sampled++
		first, err := db.inbox.Accept(ctx, &store.Delivery{Source: webhook.SourceGitHub, ID: results[i].id, Event: "push"})
		if err != nil {
			a.b.Fatal(err)
		}
		if !first {
			dupes++
		}
	}
	rep.lost += missing + unhandled
	rep.lines = append(rep.lines, fmt.Sprintf("deliveries recorded in the inbox: %d of %d (a redelivery of %d of them: %d known as duplicates); work done: %d, still pending after the graceful stop: %d",
		len(results)-missing, len(results), sampled, dupes, len(forwardLag), unhandled))
	if len(forwardLag) > 0 {
		rep.lines = append(rep.lines, fmt.Sprintf("acknowledged → work done by the forwarder (sync requested): p50 %s  p99 %s  max %s",
			msStr(pct(forwardLag, 0.5)), msStr(pct(forwardLag, 0.99)), msStr(pct(forwardLag, 1))))
	}

	// 2. Every mirror's sync request counter moved by its deliveries, and
	// a successful sync started after its last one.
	ms, err := db.ListMirrors(ctx, store.MirrorFilter{})
	if err != nil {
		a.b.Fatal(err)
	}
	short, late, extra := 0, 0, 0
	var requests, deliveries int64
	for _, m := range ms {
		i := slices.IndexFunc(a.repos, func(r appRepo) bool { return r.name == m.A.Name })
		if i < 0 {
			continue
		}
		// Deliveries waiting together in the inbox ask for one sync
		// request (webhook.Forwarder), so a counter moves by at least one
		// and at most the deliveries sent for its repository.
		delta := m.RequestSeq - before[i]
		requests += delta
		deliveries += sentTo[i]
		switch {
		case delta < 1 && sentTo[i] > 0:
			short++
			rep.lost++
		case delta > sentTo[i]:
			extra++
		}
		all, err := db.ListRuns(ctx, m.ID, 0)
		if err != nil {
			a.b.Fatal(err)
		}
		okAfter := false
		for _, r := range all {
			if r.StartedAt.After(lastSent[i]) {
				okAfter = okAfter || r.Outcome == "ok"
			}
		}
		if !okAfter {
			late++
		}
	}
	rep.lost += late
	rep.lines = append(rep.lines, fmt.Sprintf("mirrors whose sync request counter moved by 1 to their deliveries: %d of %d (%d not at all, %d more); %d requests for %d deliveries",
		len(ms)-short-extra, len(ms), short, extra, requests, deliveries))
	rep.lines = append(rep.lines, fmt.Sprintf("mirrors with a successful sync started after their last delivery: %d of %d; %s",
		len(ms)-late, len(ms), runs))

	// 3. Nothing left waiting in the queue.
	var pending int
	if err := db.query(ctx, []any{&pending},
		`SELECT count(*) FROM river_job WHERE state NOT IN ('completed', 'cancelled', 'discarded')`); err != nil {
		rep.lines = append(rep.lines, "queue: could not count jobs: "+err.Error())
	} else {
		rep.lines = append(rep.lines, fmt.Sprintf("jobs left in the queue after a graceful stop: %d", pending))
	}
	return rep
}

// inboxState counts the deliveries of results missing from the inbox and
// those still pending there (handledAfter maps an id to the time from its
// receipt to its handling, -1 while pending), and returns the others'
// times, sorted.
func inboxState(results []intakeResult, handledAfter map[string]time.Duration) (missing, unhandled int, lags []time.Duration) {
	for _, r := range results {
		switch d, ok := handledAfter[r.id]; {
		case !ok:
			missing++
		case d < 0:
			unhandled++
		default:
			lags = append(lags, d)
		}
	}
	slices.Sort(lags)
	return missing, unhandled, lags
}

// pgConn is one connection to the App's Postgres database, not the App's
// store with its pools (sixteen connections opened and closed), for the
// benchmark's own statements around and during a load.
func (a *appBench) pgConn(ctx context.Context) (*pgx.Conn, error) {
	return pgx.Connect(ctx, a.pg.URL())
}

// statementsReset empties pg_stat_statements (PGTEST_SETTINGS loads it,
// see TestMain) so that statements reads the queries of what follows.
// Nothing on SQLite.
func (a *appBench) statementsReset() {
	if a.pg == nil {
		return
	}
	a.b.Helper()
	// This runs just before the load: sixteen backends of the App's store
	// started and ended then would be Postgres's work in its first second.
	ctx := context.Background()
	conn, err := a.pgConn(ctx)
	if err != nil {
		a.b.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
		a.b.Fatalf("pg_stat_statements (PGTEST_SETTINGS must load it): %v", err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_stat_statements_reset()`); err != nil {
		a.b.Fatal(err)
	}
}

// statements is the database's view since statementsReset: the top
// statements by execution and planning time, with their calls, total and
// mean, and the total of every statement. Empty on SQLite.
func (a *appBench) statements(top int) []string {
	a.b.Helper()
	out, err := a.statementsErr(top)
	if err != nil {
		a.b.Fatal(err)
	}
	return out
}

// statementsErr is statements for any goroutine: it returns its error.
func (a *appBench) statementsErr(top int) ([]string, error) {
	if a.pg == nil {
		return nil, nil
	}
	// This may run during the load.
	ctx := context.Background()
	conn, err := a.pgConn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT query, calls, total_exec_time, total_plan_time FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY total_exec_time + total_plan_time DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	var calls int64
	var total, planned float64
	for rows.Next() {
		var q string
		var n int64
		var ms, plan float64
		if err := rows.Scan(&q, &n, &ms, &plan); err != nil {
			return nil, err
		}
		calls += n
		total += ms
		planned += plan
		if len(out) < top {
			out = append(out, fmt.Sprintf("%7d calls %8.0f ms (%.2f ms each) + planning %.0f ms: %s", n, ms, ms/float64(max(n, 1)), plan, clipQuery(q, 100)))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return append([]string{fmt.Sprintf("%d statements executed in %.0f ms and planned in %.0f ms in all; the %d costliest:", calls, total, planned, len(out))}, out...), nil
}

// clipQuery is a statement on one line, at most n bytes.
func clipQuery(q string, n int) string {
	q = strings.Join(strings.Fields(q), " ")
	if len(q) > n {
		q = q[:n] + "…"
	}
	return q
}
