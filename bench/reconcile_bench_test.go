package bench

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// reconcileTarget is issue 13's bound on a round over 10,000 mirrors.
const reconcileTarget = 5 * time.Minute

// BenchmarkReconcileScale answers issue 13's scale target: 10,000 mirrors in
// one Postgres database, all in sync; a reconcile round over all of them
// (two ref listings each, no objects) completes within 5 minutes with 3 App
// replicas (real binaries) and the forge on this machine, at most one sync
// per mirror at a time. It reports the round's time, how the syncs spread
// over it, the App's CPU, the queries per mirror (pg_stat_statements) and
// each replica's RSS.
//
// The repositories are made cheaply: one small repository (two commits on
// main, an annotated tag), packed, and its pack hard-linked into each of
// the 10,000 repositories on either side. The mirrors, the installation
// and its Gitee token are written into the database with the store's own
// code before the replicas start, as if every mirror had synced before;
// the replicas' periodic reconcile (GITEE_MIRROR_RECONCILE_INTERVAL, the
// round's length) runs when the leader starts.
//
// The forge answers ref listings in-process (forgetest.InProcessRefAdvertisement)
// unless GM_BENCH_SCALE_GIT=http-backend: see bench/README.md for why.
//
//	go test -run '^$' -bench ReconcileScale -benchtime 1x -timeout 30m ./bench/
func BenchmarkReconcileScale(b *testing.B) {
	n := envInt("GM_BENCH_SCALE_MIRRORS", 10000)
	// A round is spread over its interval, so it ends with the interval
	// plus the lag of its last syncs: 4m30s leaves that lag half a minute.
	interval := envDuration("GM_BENCH_SCALE_INTERVAL", reconcileTarget-30*time.Second)
	replicas := envInt("GM_BENCH_APP_REPLICAS", 3)
	httpBackend := os.Getenv("GM_BENCH_SCALE_GIT") == "http-backend"
	out := os.Stdout
	fmt.Fprintf(out, "\n== BenchmarkReconcileScale: a reconcile round over every mirror ==\n")
	var forgeOpts []forgetest.Option
	refs := "answered in-process by the forge"
	if !httpBackend {
		forgeOpts = append(forgeOpts, forgetest.InProcessRefAdvertisement())
	} else {
		refs = "answered by git http-backend (nice 19)"
	}
	a := newAppBench(b, appBenchConfig{replicas: replicas, postgres: true, forgeOpts: forgeOpts,
		env: []string{"GITEE_MIRROR_RECONCILE_INTERVAL=" + interval.String()}})
	fmt.Fprintf(out, "%s %s/%s, %d CPUs, load average %s; %d mirrors, round of %s, %s; ref listings %s\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), loadAvg(), n, interval, a.backend(), refs)

	setupStart := time.Now()
	names, want := a.seedRepos(n)
	fmt.Fprintf(out, "setup: %d repositories on each side (one pack, hard-linked) in %.1f s\n", n, time.Since(setupStart).Seconds())
	t := time.Now()
	ids := a.seedMirrors(names, want)
	fmt.Fprintf(out, "setup: %d mirrors, in sync, with their ref state, written to the database in %.1f s\n", n, time.Since(t).Seconds())

	db := a.openDB()
	defer db.close()
	ctx := context.Background()
	if _, err := db.pg.Pool().Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
		b.Fatalf("pg_stat_statements (PGTEST_SETTINGS must load it): %v", err)
	}
	if _, err := db.pg.Pool().Exec(ctx, `SELECT pg_stat_statements_reset(), pg_stat_reset()`); err != nil {
		b.Fatal(err)
	}
	tables0 := tableScans(b, db)

	// Who lists which repository, and when.
	index := make(map[string]int, n)
	for i, name := range names {
		index[name] = i
	}
	type listing struct{ gh, ge atomic.Int64 } // unix nanos of the first listing; counts below
	firsts := make([]listing, n)
	var ghCount, geCount []atomic.Int32
	ghCount, geCount = make([]atomic.Int32, n), make([]atomic.Int32, n)
	var listed atomic.Int64
	note := func(side string) func(r *http.Request) {
		return func(r *http.Request) {
			if !strings.HasSuffix(r.URL.Path, "/info/refs") {
				return
			}
			parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
			i, ok := index[strings.TrimSuffix(parts[1], ".git")]
			if !ok {
				return
			}
			now := time.Now().UnixNano()
			if side == "gh" {
				firsts[i].gh.CompareAndSwap(0, now)
				if ghCount[i].Add(1) == 1 {
					listed.Add(1)
				}
			} else {
				firsts[i].ge.CompareAndSwap(0, now)
				if geCount[i].Add(1) == 1 {
					listed.Add(1)
				}
			}
		}
	}
	a.gh.OnRequest(note("gh"))
	a.ge.OnRequest(note("ge"))
	a.gh.ResetStats()
	a.ge.ResetStats()

	cpu0 := a.cpuNow()
	start := time.Now()
	a.start()
	fmt.Fprintf(out, "replicas ready after %.1f s; the leader's reconcile runs on start\n", time.Since(start).Seconds())
	deadline := start.Add(interval + 10*time.Minute)
	var done time.Time
	lastReport := time.Now()
	var memPeaks = make([]int64, len(a.reps))
	for {
		for i, r := range a.reps {
			_, now := r.memory()
			memPeaks[i] = max(memPeaks[i], now)
		}
		if listed.Load() >= int64(2*n) {
			done = time.Now()
			break
		}
		if time.Now().After(deadline) {
			break
		}
		if time.Since(lastReport) >= 30*time.Second {
			lastReport = time.Now()
			fmt.Fprintf(out, "  %5.0f s: %d of %d listings; load average %s; %s\n", time.Since(start).Seconds(), listed.Load(), 2*n, loadAvg(), a.memoryLine())
		}
		time.Sleep(200 * time.Millisecond)
	}
	cpu := a.cpuNow().since(cpu0)
	memLine := a.memoryLine()
	if done.IsZero() {
		b.Errorf("the round did not finish: %d of %d listings after %s\n%s", listed.Load(), 2*n, time.Since(start), a.logTail())
		done = time.Now()
	}
	round := done.Sub(start)

	// Spread: each mirror's sync (its first listing) against its slot in
	// the round (mirror i of n at i/n of the interval, in id order).
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(x, y int) int { return cmpInt64(ids[x], ids[y]) })
	var lags []time.Duration
	perMinute := map[int]int{}
	for rank, i := range order {
		at := min(firsts[i].gh.Load(), firsts[i].ge.Load())
		if at == 0 {
			continue
		}
		t := time.Unix(0, at)
		slot := start.Add(time.Duration(int64(interval) / int64(n) * int64(rank)))
		lags = append(lags, max(t.Sub(slot), 0))
		perMinute[int(t.Sub(start)/time.Minute)]++
	}
	slices.Sort(lags)
	twice := 0
	for i := range n {
		if ghCount[i].Load() > 1 || geCount[i].Load() > 1 {
			twice++
		}
	}

	// The database's view.
	type stmt struct {
		query string
		calls int64
		ms    float64
	}
	rows, err := db.pg.Pool().Query(ctx, `SELECT query, calls, total_exec_time FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY calls DESC`)
	if err != nil {
		b.Fatal(err)
	}
	var stmts []stmt
	var calls int64
	var execMS float64
	for rows.Next() {
		var s stmt
		if err := rows.Scan(&s.query, &s.calls, &s.ms); err != nil {
			b.Fatal(err)
		}
		stmts = append(stmts, s)
		calls += s.calls
		execMS += s.ms
	}
	rows.Close()
	tables := tableScans(b, db)

	a.stop()
	var runs, inSync, jobs int
	if err := db.query(ctx, []any{&runs}, `SELECT count(*) FROM sync_runs`); err != nil {
		b.Fatal(err)
	}
	if err := db.query(ctx, []any{&inSync}, `SELECT count(*) FROM mirrors WHERE status = $1`, string(store.StatusInSync)); err != nil {
		b.Fatal(err)
	}
	if err := db.query(ctx, []any{&jobs}, `SELECT count(*) FROM river_job WHERE kind = 'gitee_mirror.sync' AND state = 'completed'`); err != nil {
		b.Fatal(err)
	}

	ghs, ges := a.gh.Stats(), a.ge.Stats()
	fmt.Fprintf(out, "round: %d mirrors listed on both sides in %.1f s from the replicas' start (round of %s); load average %s\n",
		len(lags), round.Seconds(), interval, loadAvg())
	fmt.Fprintf(out, "spread: first listing of each mirror after its slot (i/n of the round, id order): p50 %s  p99 %s  max %s; syncs per minute:%s\n",
		secStr(pct(lags, 0.5)), secStr(pct(lags, 0.99)), secStr(pct(lags, 1)), minutes(perMinute))
	fmt.Fprintf(out, "one sync per mirror: %d mirrors listed more than once on a side; forge requests: GitHub side %d listings (%d in-process), %d fetches; Gitee side %d listings (%d in-process), %d pushes\n",
		twice, ghs.Listings(), ghs.InfoRefsInProcess+ghs.LsRefsInProcess, ghs.UploadPackPOSTs,
		ges.Listings(), ges.InfoRefsInProcess+ges.LsRefsInProcess, ges.ReceivePackPOSTs)
	fmt.Fprintf(out, "database after the round: %d sync runs recorded (a no-op reconcile records none), %d of %d mirrors in sync, %d sync jobs completed\n",
		runs, inSync, n, jobs)
	fmt.Fprintf(out, "CPU during the round (%s)\n", cpu.line(runtime.NumCPU()))
	fmt.Fprintf(out, "the App: %.1f ms of CPU per mirror over %d replicas (%.1f s in all)\n",
		cpu.app*cpu.wall.Seconds()*1000/float64(n), len(a.reps), cpu.app*cpu.wall.Seconds())
	fmt.Fprintf(out, "queries: %.1f statements per mirror (%d in all, %.0f ms of execution in Postgres); the most frequent:\n", float64(calls)/float64(n), calls, execMS)
	for _, s := range stmts[:min(len(stmts), 12)] {
		fmt.Fprintf(out, "  %7d  %5.2f/mirror  %8.1f ms  %s\n", s.calls, float64(s.calls)/float64(n), s.ms, oneLine(s.query, 110))
	}
	fmt.Fprintf(out, "table scans during the round (sequential / index):%s\n", scanDelta(tables0, tables))
	fmt.Fprintf(out, "App processes' RSS at the end: %s (largest RSS seen while running: %s)\n", memLine, kibList(memPeaks))
	peak := slices.Max(memPeaks)
	fmt.Fprintf(out, "target: round ≤ %s: %s (%.1f s); one sync per mirror: %s; RSS ≤ 150 MB per replica: %s (%s)\n",
		reconcileTarget, mark(round <= reconcileTarget), round.Seconds(), mark(twice == 0), mark(peak*1024 <= 150e6), mib(peak))
	b.ReportMetric(round.Seconds(), "round-s")
	b.ReportMetric(float64(calls)/float64(n), "queries/mirror")
	b.ReportMetric(cpu.app*cpu.wall.Seconds()*1000/float64(n), "app-cpu-ms/mirror")
	b.ReportMetric(float64(peak)/1024, "max-rss-MiB")
	b.ReportMetric(0, "ns/op")
	if twice > 0 {
		b.Errorf("%d mirrors were synced more than once in one round", twice)
	}
}

func cmpInt64(x, y int64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func secStr(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

// minutes formats per-minute counts in order.
func minutes(m map[int]int) string {
	var keys []int
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&out, " %d–%d min %d;", k, k+1, m[k])
	}
	return strings.TrimSuffix(out.String(), ";")
}

func kibList(v []int64) string {
	var parts []string
	for _, k := range v {
		parts = append(parts, mib(k))
	}
	return strings.Join(parts, ", ")
}

// oneLine squeezes a statement onto one line of at most n characters.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// tableScans is every table's sequential and index scans so far.
func tableScans(b *testing.B, db *benchDB) map[string][2]int64 {
	b.Helper()
	rows, err := db.pg.Pool().Query(context.Background(), `SELECT relname, coalesce(seq_scan, 0), coalesce(idx_scan, 0) FROM pg_stat_user_tables`)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	out := map[string][2]int64{}
	for rows.Next() {
		var name string
		var seq, idx int64
		if err := rows.Scan(&name, &seq, &idx); err != nil {
			b.Fatal(err)
		}
		out[name] = [2]int64{seq, idx}
	}
	return out
}

// scanDelta lists the tables scanned between two readings.
func scanDelta(before, after map[string][2]int64) string {
	var names []string
	for k := range after {
		names = append(names, k)
	}
	slices.Sort(names)
	var out strings.Builder
	for _, k := range names {
		seq, idx := after[k][0]-before[k][0], after[k][1]-before[k][1]
		if seq == 0 && idx == 0 {
			continue
		}
		fmt.Fprintf(&out, " %s %d/%d;", k, seq, idx)
	}
	return strings.TrimSuffix(out.String(), ";")
}

// seedRepos makes n repositories on each side, every one a copy of one
// small packed repository whose pack is hard-linked, and returns their
// names and refs.
func (a *appBench) seedRepos(n int) (names []string, refs map[string]string) {
	b := a.b
	b.Helper()
	tmp := b.TempDir()
	work, seed := filepath.Join(tmp, "work"), filepath.Join(tmp, "seed.git")
	git := func(dir string, args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=bench", "GIT_AUTHOR_EMAIL=bench@example.invalid",
			"GIT_COMMITTER_NAME=bench", "GIT_COMMITTER_EMAIL=bench@example.invalid")
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git(tmp, "init", "-q", "-b", "main", work)
	os.WriteFile(filepath.Join(work, "README.md"), []byte("# a service\n"), 0o644)
	git(work, "add", ".")
	git(work, "commit", "-q", "-m", "first")
	os.WriteFile(filepath.Join(work, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644)
	git(work, "add", ".")
	git(work, "commit", "-q", "-m", "second")
	git(work, "tag", "-a", "v1.0.0", "-m", "v1.0.0")
	git(tmp, "clone", "-q", "--bare", work, seed)
	git(seed, "repack", "-a", "-d", "-q")
	git(seed, "pack-refs", "--all")
	refs = map[string]string{
		"refs/heads/main":  git(seed, "rev-parse", "refs/heads/main"),
		"refs/tags/v1.0.0": git(seed, "rev-parse", "refs/tags/v1.0.0"),
	}
	packs, _ := filepath.Glob(filepath.Join(seed, "objects", "pack", "pack-*"))
	packed, err := os.ReadFile(filepath.Join(seed, "packed-refs"))
	if err != nil || len(packs) == 0 {
		b.Fatalf("seed repository: packs %v, packed-refs: %v", packs, err)
	}
	names = make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("svc-%05d", i)
	}
	var wg sync.WaitGroup
	var failed atomic.Value
	next := atomic.Int64{}
	for range 4 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				for _, side := range []struct {
					f     *forgetest.Forge
					owner string
				}{{a.gh, appOwner}, {a.ge, appGiteeOrg}} {
					dir := side.f.CreateRepo(side.owner, names[i])
					for _, p := range packs {
						if err := os.Link(p, filepath.Join(dir, "objects", "pack", filepath.Base(p))); err != nil {
							failed.Store(err)
							return
						}
					}
					if err := os.WriteFile(filepath.Join(dir, "packed-refs"), packed, 0o644); err != nil {
						failed.Store(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatalf("copying the seed repository: %v", err)
	}
	return names, refs
}

// seedMirrors writes the installation, its Gitee token and one mirror per
// repository, in sync with refs, with the store's own code; it returns the
// mirrors' ids by repository index.
func (a *appBench) seedMirrors(names []string, refs map[string]string) []int64 {
	b := a.b
	b.Helper()
	db := a.openDB()
	defer db.close()
	ctx := context.Background()
	if err := db.UpsertInstallation(ctx, store.Installation{ID: appBenchInstall, Account: appOwner, AccountType: "Organization"}); err != nil {
		b.Fatal(err)
	}
	if err := db.SetCredential(ctx, store.Credential{InstallationID: appBenchInstall, Login: appGiteeLogin, Token: appGiteeToken}); err != nil {
		b.Fatal(err)
	}
	ids := make([]int64, len(names))
	var wg sync.WaitGroup
	var failed atomic.Value
	next := atomic.Int64{}
	synced := time.Now().Add(-time.Minute)
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(names) {
					return
				}
				m := &store.Mirror{InstallationID: appBenchInstall, GitHubRepoID: a.gh.RepoID(appOwner, names[i]),
					A: store.Side{Owner: appOwner, Name: names[i]}, B: store.Side{Owner: appGiteeOrg, Name: names[i]},
					Direction: store.AToB, Prune: true, CreateMissing: true, Visibility: "source", ConfigSource: "settings",
					Status: store.StatusInSync, LastSyncAt: synced}
				if err := db.CreateMirror(ctx, m); err != nil {
					failed.Store(err)
					return
				}
				if err := db.SaveRefState(ctx, m.ID, refs); err != nil {
					failed.Store(err)
					return
				}
				ids[i] = m.ID
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatalf("writing the mirrors: %v", err)
	}
	return ids
}
