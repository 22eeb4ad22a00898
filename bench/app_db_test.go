package bench

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"time"

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

// lossReport is what the database says about the deliveries of the load.
type lossReport struct {
	lost  int
	lines []string
}

// checkNoLoss looks in the stopped App's database for every delivery of
// the load and what it asked for.
func (a *appBench) checkNoLoss(results []intakeResult, before, sentTo []int64, lastSent []time.Time) lossReport {
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
	missing, unhandled := 0, 0
	var forwardLag []time.Duration
	for _, r := range results {
		switch d, ok := handledAfter[r.id]; {
		case !ok:
			missing++
		case d < 0:
			unhandled++
		default:
			forwardLag = append(forwardLag, d)
		}
	}
	slices.Sort(forwardLag)
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
	var runs int
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
		after := 0
		okAfter := false
		for _, r := range all {
			if r.StartedAt.After(lastSent[i]) {
				after++
				okAfter = okAfter || r.Outcome == "ok"
			}
			if r.StartedAt.After(results[0].due) {
				runs++
			}
		}
		if !okAfter {
			late++
		}
	}
	rep.lost += late
	rep.lines = append(rep.lines, fmt.Sprintf("mirrors whose sync request counter moved by 1 to their deliveries: %d of %d (%d not at all, %d more); %d requests for %d deliveries",
		len(ms)-short-extra, len(ms), short, extra, requests, deliveries))
	rep.lines = append(rep.lines, fmt.Sprintf("mirrors with a successful sync started after their last delivery: %d of %d; %d syncs ran during and after the load (requests coalesce)",
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
