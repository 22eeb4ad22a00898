package bench

import (
	"encoding/base64"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
)

// Forge users: the reader may only read the source owner's repositories,
// the writer may write the target owner's.
const (
	srcOwner = "src"
	dstOwner = "dst"
	reader   = "reader"
	writer   = "writer"
	srcToken = "bench-src-token-8c1f2a"
	dstToken = "bench-dst-token-47be90"
)

type endpoint struct{ url, login, token string }

func basicAuth(login, token string) string {
	return base64.StdEncoding.EncodeToString([]byte(login + ":" + token))
}

// scenario holds the measured runs of both sides.
type scenario struct {
	name      string
	key       string // for metrics and profile names
	target    target
	git, core []usage
	noop      bool // the no-op row: no pack may be asked for or sent
}

// target is what the issue asks of core/git; zero means none.
type target struct{ time, mem float64 }

// BenchmarkMirror times the sync core against the git CLI on one generated
// repository of 100,000+ objects served by the test forge, in the same run:
// initial mirror, incremental mirror of one new commit, and no-op. Run it
// once (the repetitions are inside):
//
//	go test -run '^$' -bench . -benchtime 1x ./bench/
//
// See README.md for what is and is not measured.
func BenchmarkMirror(b *testing.B) {
	out := os.Stdout
	initialRuns := envInt("GM_BENCH_INITIAL_RUNS", 2)
	runs := envInt("GM_BENCH_RUNS", 5)

	gitVersion, _ := exec.Command("git", "version").Output()
	fmt.Fprintf(out, "\n== gitee-mirror benchmark: sync core vs git CLI ==\n")
	fmt.Fprintf(out, "%s %s/%s, %d CPUs, %s", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), gitVersion)

	var err error
	if launcherPath, err = buildLauncher(b.TempDir()); err != nil {
		b.Fatal(err)
	}
	// What does wait4's ru_maxrss count? Checked, not assumed.
	rc, err := checkRusage()
	if err != nil {
		b.Fatalf("rusage check: %v", err)
	}
	fmt.Fprintf(out, "ru_maxrss check: `true` started by the benchmark process directly: %s (its parent's peak, inherited at exec);\n"+
		"  through the launcher: %s (the floor of every figure below); a child touching %d MiB: %s;\n"+
		"  a parent waiting for that child: %s; a parent holding %d MiB while that child runs: %s (sampled tree sum %s)\n",
		mib(rc.Direct), mib(rc.Floor), rc.hog, mib(rc.ChildAlone), mib(rc.ParentWaits), rc.parent, mib(rc.Both), mib(rc.BothTree))
	if rc.ParentWaits < rc.ChildAlone*9/10 {
		b.Fatalf("ru_maxrss of a parent does not include the child it waited for (%d < %d KiB): the git figures would be wrong", rc.ParentWaits, rc.ChildAlone)
	}
	how := "as the largest single process, not their sum"
	if rc.Both > rc.ChildAlone+int64(rc.parent)*1024/2 {
		how = "apparently summed"
	}
	fmt.Fprintf(out, "  => ru_maxrss covers the children a process waited for, %s;\n"+
		"     git's multi-process pipelines are therefore also shown as a sampled sum over the client process tree (\"tree\").\n", how)

	if coreHelperPath, err = buildCoreHelper(b.TempDir()); err != nil {
		b.Fatal(err)
	}
	defer func() { coreHelperPath = "" }()
	su, _, err := measure(exec.Command(coreHelperPath))
	if err != nil {
		b.Fatal(err)
	}
	tu, _, err := measure(exec.Command(os.Args[0], "-test.run=^$"))
	if err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(out, "core helper (bench/corehelper, the core alone) start-up: %.0f ms, maxrss %s; included in every core figure\n"+
		"  (this test binary, which links every benchmark's dependencies, would start in %.0f ms with maxrss %s)\n",
		ms(su.Wall), mib(su.MaxRSS), ms(tu.Wall), mib(tu.MaxRSS))

	cache := os.Getenv("GM_BENCH_CACHE") != "0"
	fmt.Fprintf(out, "core: with a cache directory (the App always has one; the Action with cache-path): %v\n", cache)

	// The forge and the source repository.
	f := forgetest.New(b)
	f.AddUser(reader, srcToken)
	f.AddUser(writer, dstToken)
	f.Grant(reader, srcOwner, "*", forgetest.Read)
	f.Grant(writer, dstOwner, "*", forgetest.Write)
	srcPath := f.CreateRepo(srcOwner, "big")
	home := b.TempDir()
	env := gitEnv(home)

	start := time.Now()
	g := newGenerator()
	if err := fastImport(srcPath, env, func(w io.Writer) error { g.to(w); return g.history() }); err != nil {
		b.Fatal(err)
	}
	imported := time.Since(start)
	if _, err := runGit(env, srcPath, "repack", "-a", "-d", "-f", "-q"); err != nil {
		b.Fatal(err)
	}
	objects, packKiB := countObjects(b, env, srcPath)
	fmt.Fprintf(out, "source: %d objects (%d commits, %d branches and tags), pack %.1f MiB; generated in %s (fast-import %s, repack -adf %s)\n",
		objects, g.n, len(headsAndTags(f.Refs(srcOwner, "big"))), float64(packKiB)/1024, time.Since(start).Round(100*time.Millisecond),
		imported.Round(100*time.Millisecond), (time.Since(start) - imported).Round(100*time.Millisecond))
	if objects < minObjects {
		b.Fatalf("source has %d objects, want at least %d", objects, minObjects)
	}
	fmt.Fprintf(out, "each side runs as client processes measured on their own; the forge (http-backend, upload-pack, pack-objects,\n"+
		"receive-pack, index-pack on the server) runs as children of the benchmark process and is counted for neither side.\n\n")
	r := &mirrorRun{b: b, f: f, home: home, cache: cache, initialRuns: initialRuns, runs: runs,
		src: "big", newCommit: func() error {
			return fastImport(srcPath, env, func(w io.Writer) error { g.to(w); return g.oneMore() })
		}}
	r.scenarios(envDuration("GM_BENCH_LATENCY", 50*time.Millisecond))
	r.table("")
	b.ReportMetric(float64(objects), "objects")

	// The same on a real repository's history, when one is given.
	if dir := os.Getenv("GM_BENCH_REAL_REPO"); dir != "" {
		rr := realSource(b, f, env, home, dir)
		rr.initialRuns, rr.runs, rr.cache = initialRuns, runs, cache
		rr.scenarios(0)
		rr.table("real-")
	} else {
		fmt.Fprintf(out, "GM_BENCH_REAL_REPO not set: no run on a real repository's history\n\n")
	}
	b.ReportMetric(0, "ns/op") // the whole run's time per op means nothing here
}

// mirrorRun is the scenarios of one source repository on the forge.
type mirrorRun struct {
	b                 *testing.B
	f                 *forgetest.Forge
	home              string
	src               string       // repository name under srcOwner
	newCommit         func() error // writes one new commit into the source
	cache             bool         // the core runs with a cache directory
	initialRuns, runs int
	all               []*scenario
}

// scenarios runs the initial mirror, one new commit and the no-op, and
// with lat > 0 the last two again with that latency on every request.
func (m *mirrorRun) scenarios(lat time.Duration) {
	b, f, out := m.b, m.f, os.Stdout
	src := endpoint{f.GitURL(srcOwner, m.src), reader, srcToken}
	srcRefs := headsAndTags(f.Refs(srcOwner, m.src))
	check := func(target string, fsck bool) {
		b.Helper()
		want := headsAndTags(f.Refs(srcOwner, m.src))
		got := headsAndTags(f.Refs(dstOwner, target))
		if !maps.Equal(want, got) {
			b.Fatalf("target %s: branches and tags differ from the source:\n%s", target, refDiff(want, got))
		}
		if fsck {
			if err := f.Fsck(dstOwner, target); err != nil {
				b.Fatalf("target %s: %v", target, err)
			}
		}
	}
	var cacheDir string
	hints := "" // what a push event tells the App or the Action: set per run
	core := func(dst endpoint, name string, rep int) (usage, coreReport) {
		b.Helper()
		u, r, err := coreRunCache(src, dst, cacheDir, profilePath(m.src+"-"+name, rep), hints)
		if err != nil {
			b.Fatalf("core, %s run %d: %v", name, rep, err)
		}
		for _, line := range r.Trace {
			fmt.Fprintf(out, "    trace %s %d: %s\n", name, rep, line)
		}
		return u, r
	}
	git := func(dir, login, token string, args ...string) usage {
		b.Helper()
		u, _, err := measure(gitCmd(m.home, dir, login, token, args...))
		if err != nil {
			b.Fatalf("git baseline: %v", err)
		}
		return u
	}

	// 1. Initial mirror into empty targets (and, for the core, an empty
	// cache directory: the App's first sync of a repository).
	initial := &scenario{name: "initial mirror", key: "initial", target: target{time: 0.6, mem: 0.3}}
	var mirrorDir string
	var gitDst, coreDst endpoint
	var gitTarget, coreTarget string
	for i := 1; i <= m.initialRuns; i++ {
		gname, cname := fmt.Sprintf("%s-git-%d", m.src, i), fmt.Sprintf("%s-core-%d", m.src, i)
		f.CreateRepo(dstOwner, gname)
		f.CreateRepo(dstOwner, cname)
		gitDst = endpoint{f.GitURL(dstOwner, gname), writer, dstToken}
		coreDst = endpoint{f.GitURL(dstOwner, cname), writer, dstToken}
		gitTarget, coreTarget = gname, cname
		if m.cache {
			cacheDir = filepath.Join(b.TempDir(), "cache")
		}
		runGitSide := func() {
			dir := b.TempDir()
			mirrorDir = filepath.Join(dir, "mirror.git")
			f.ResetStats()
			u1 := git(dir, reader, srcToken, "clone", "--mirror", src.url, mirrorDir)
			u2 := git(mirrorDir, writer, dstToken, "push", "--mirror", gitDst.url)
			u := u1.add(u2)
			initial.git = append(initial.git, u)
			fmt.Fprintf(out, "initial %d git:  clone --mirror %s (maxrss %s, tree %s) + push --mirror %s (maxrss %s, tree %s) = %s; %s; %s\n",
				i, secs(u1.Wall), mib(u1.MaxRSS), mib(u1.TreeRSS), secs(u2.Wall), mib(u2.MaxRSS), mib(u2.TreeRSS), secs(u.Wall), wire(f.Stats()), load())
			check(gname, false)
		}
		runCoreSide := func() {
			f.ResetStats()
			u, r := core(coreDst, "initial", i)
			initial.core = append(initial.core, u)
			fmt.Fprintf(out, "initial %d core: mirror.Sync %s (Sync itself %s; maxrss %s, tree %s, CPU %s); %d refs written, %s relayed; %s; %s\n",
				i, secs(u.Wall), secs(time.Duration(r.Duration)), mib(u.MaxRSS), mib(u.TreeRSS), secs(u.CPU), r.Changed, mibBytes(r.Bytes), wire(f.Stats()), load())
			if r.Changed != len(srcRefs) {
				b.Fatalf("core initial run %d wrote %d refs, want %d", i, r.Changed, len(srcRefs))
			}
			check(cname, true)
		}
		if i%2 == 1 {
			runGitSide()
			runCoreSide()
		} else {
			runCoreSide()
			runGitSide()
		}
	}

	// 2. Incremental: one new commit on the default branch each run; the
	// core keeps the cache directory of its last initial run. hinted: the
	// core is told the new commit, as the App is by GitHub's push webhook
	// and the Action by a push-triggered workflow (Options.Hints).
	incremental := func(sc *scenario, n int, hinted bool) {
		for i := 1; i <= n; i++ {
			before := headsAndTags(f.Refs(srcOwner, m.src))
			if err := m.newCommit(); err != nil {
				b.Fatal(err)
			}
			hints = ""
			if hinted {
				var hs []string
				for ref, id := range headsAndTags(f.Refs(srcOwner, m.src)) {
					if before[ref] != id {
						hs = append(hs, ref+"="+id)
					}
				}
				hints = strings.Join(hs, " ")
			}
			runGitSide := func() {
				f.ResetStats()
				u1 := git(mirrorDir, reader, srcToken, "fetch")
				u2 := git(mirrorDir, writer, dstToken, "push", "--mirror", gitDst.url)
				u := u1.add(u2)
				sc.git = append(sc.git, u)
				fmt.Fprintf(out, "%s %d git:  fetch %s (maxrss %s) + push --mirror %s (maxrss %s) = %s; %s; %s\n",
					sc.name, i, secs(u1.Wall), mib(u1.MaxRSS), secs(u2.Wall), mib(u2.MaxRSS), secs(u.Wall), wire(f.Stats()), load())
				check(gitTarget, false)
			}
			runCoreSide := func() {
				f.ResetStats()
				u, r := core(coreDst, sc.key, i)
				sc.core = append(sc.core, u)
				fmt.Fprintf(out, "%s %d core: mirror.Sync %s (Sync itself %s; maxrss %s, CPU %s); %d refs written, %s relayed; %s; %s\n",
					sc.name, i, secs(u.Wall), secs(time.Duration(r.Duration)), mib(u.MaxRSS), secs(u.CPU), r.Changed, mibBytes(r.Bytes), wire(f.Stats()), load())
				if r.Changed != 1 {
					b.Fatalf("core, %s run %d: wrote %d refs, want 1", sc.name, i, r.Changed)
				}
				check(coreTarget, true)
			}
			if i%2 == 1 {
				runGitSide()
				runCoreSide()
			} else {
				runCoreSide()
				runGitSide()
			}
		}
		hints = ""
	}
	// 3. No-op: nothing changed since the last sync.
	noChange := func(sc *scenario, n int) {
		for i := 1; i <= n; i++ {
			u1 := git("", reader, srcToken, "ls-remote", src.url)
			u2 := git("", writer, dstToken, "ls-remote", gitDst.url)
			u := u1.add(u2)
			sc.git = append(sc.git, u)
			f.ResetStats()
			cu, r := core(coreDst, sc.key, i)
			st := f.Stats()
			sc.core = append(sc.core, cu)
			fmt.Fprintf(out, "%s %d: git 2× ls-remote %s (maxrss %s); core %s (Sync itself %s; maxrss %s), noop=%v, upload-pack POSTs %d, receive-pack POSTs %d; %s\n",
				sc.name, i, secs(u.Wall), mib(u.MaxRSS), secs(cu.Wall), secs(time.Duration(r.Duration)), mib(cu.MaxRSS), r.NoOp, st.UploadPackPOSTs, st.ReceivePackPOSTs, load())
			if !r.NoOp || st.UploadPackPOSTs != 0 || st.ReceivePackPOSTs != 0 || r.Changed != 0 {
				b.Fatalf("core, %s run %d: moved data: noop=%v changed=%d stats=%+v", sc.name, i, r.NoOp, r.Changed, st)
			}
			check(coreTarget, i == n)
		}
	}
	incr := &scenario{name: "one new commit", key: "incr", target: target{time: 0.45}}
	incremental(incr, m.runs, true)
	unhinted := &scenario{name: "  without the hint", key: "incr-nohint"}
	incremental(unhinted, m.runs, false)
	noop := &scenario{name: "no-op", key: "noop", target: target{time: 0.5}, noop: true}
	noChange(noop, m.runs)
	m.all = []*scenario{initial, incr, unhinted, noop}

	// The same with a delay on every request, as a rough stand-in for a
	// real network's round trips (informational; no targets).
	if lat > 0 {
		fmt.Fprintf(out, "with %s added to every forge request:\n", lat)
		f.SetLatency(lat)
		incrLat := &scenario{name: "one commit +" + lat.String(), key: "incr-latency"}
		incremental(incrLat, m.runs, true)
		unhintedLat := &scenario{name: "  without the hint", key: "incr-nohint-latency"}
		incremental(unhintedLat, m.runs, false)
		noopLat := &scenario{name: "no-op +" + lat.String(), key: "noop-latency"}
		noChange(noopLat, m.runs)
		f.SetLatency(0)
		m.all = append(m.all, incrLat, unhintedLat, noopLat)
	}
}

// table prints the medians of every scenario against its targets and
// reports the ratios as metrics, their names prefixed with prefix.
func (m *mirrorRun) table(prefix string) {
	b, out := m.b, os.Stdout
	fmt.Fprintf(out, "\n%s: medians: initial of %d runs, others of %d; core cache directory: %v; wall = start to exit of the client processes;\n", m.src, m.initialRuns, m.runs, m.cache)
	fmt.Fprintf(out, "peak = ru_maxrss (largest single client process, incl. children it waited for); tree = sampled sum over the client process tree\n\n")
	fmt.Fprintf(out, "%-18s %9s %9s %8s %9s %9s %8s %9s %9s  %s\n",
		"scenario", "git wall", "core wall", "core/git", "git peak", "core peak", "core/git", "git tree", "core tree", "targets (core/git)")
	var missed []string
	for _, sc := range m.all {
		gm, cm := median(sc.git), median(sc.core)
		tr := ratio(float64(cm.Wall), float64(gm.Wall))
		mr := ratio(float64(cm.MaxRSS), float64(gm.MaxRSS))
		t := sc.target
		verdict := "informational"
		if t.time > 0 {
			verdict = fmt.Sprintf("time ≤%.2f× %s", t.time, mark(tr <= t.time))
			if tr > t.time {
				missed = append(missed, fmt.Sprintf("%s time: %.2f× against ≤%.2f× (%.0f%% over)", sc.name, tr, t.time, (tr/t.time-1)*100))
			}
		}
		if t.mem > 0 {
			verdict += fmt.Sprintf("; memory ≤%.1f× %s", t.mem, mark(mr <= t.mem))
			if mr > t.mem {
				missed = append(missed, fmt.Sprintf("%s memory: %.2f× against ≤%.1f× (%.0f%% over)", sc.name, mr, t.mem, (mr/t.mem-1)*100))
			}
		}
		if sc.noop {
			verdict += "; no pack requested or sent: yes"
		}
		fmt.Fprintf(out, "%-18s %9s %9s %7.2f× %9s %9s %7.2f× %9s %9s  %s\n",
			sc.name, secs(gm.Wall), secs(cm.Wall), tr, mib(gm.MaxRSS), mib(cm.MaxRSS), mr, mib(gm.TreeRSS), mib(cm.TreeRSS), verdict)
		b.ReportMetric(tr, prefix+sc.key+"-time-core/git")
		b.ReportMetric(mr, prefix+sc.key+"-mem-core/git")
	}
	fmt.Fprintf(out, "\ntargets (issue 16, with a cache directory): initial ≤0.6× time and ≤0.3× peak memory; one new commit ≤0.45×;\n"+
		"no-op: no pack requested or sent, ≤0.5× the time of two git ls-remote calls.\n")
	if len(missed) == 0 {
		fmt.Fprintf(out, "all targets met\n")
	}
	for _, s := range missed {
		fmt.Fprintf(out, "MISSED: %s\n", s)
	}
	fmt.Fprintln(out)
}

// load is the machine's load averages, printed with every figure: the
// cores are shared, so a figure means little without them.
func load() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "load ?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "load ?"
	}
	return "load " + strings.Join(f[:3], " ")
}

func envDuration(key string, def time.Duration) time.Duration {
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	if v == "0" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return def
	}
	return d
}

func envInt(key string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(key)); err == nil && n > 0 {
		return n
	}
	return def
}

func runGit(env []string, dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		return string(outb), fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(outb), nil
}

// countObjects returns the number of packed objects and the pack size in
// KiB, from git count-objects -v.
func countObjects(b *testing.B, env []string, dir string) (objects, packKiB int) {
	b.Helper()
	s, err := runGit(env, dir, "count-objects", "-v")
	if err != nil {
		b.Fatal(err)
	}
	var loose int
	for _, line := range strings.Split(s, "\n") {
		k, v, _ := strings.Cut(line, ": ")
		n, _ := strconv.Atoi(strings.TrimSpace(v))
		switch k {
		case "count":
			loose = n
		case "in-pack":
			objects = n
		case "size-pack":
			packKiB = n
		}
	}
	return objects + loose, packKiB
}

func headsAndTags(refs map[string]string) map[string]string {
	out := map[string]string{}
	for ref, id := range refs {
		if strings.HasPrefix(ref, "refs/heads/") || strings.HasPrefix(ref, "refs/tags/") {
			out[ref] = id
		}
	}
	return out
}

func refDiff(want, got map[string]string) string {
	var lines []string
	for _, ref := range slices.Sorted(maps.Keys(want)) {
		if got[ref] != want[ref] {
			lines = append(lines, fmt.Sprintf("  %s: target %q, source %q", ref, got[ref], want[ref]))
		}
	}
	for _, ref := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[ref]; !ok {
			lines = append(lines, fmt.Sprintf("  %s: only on the target", ref))
		}
	}
	if len(lines) > 20 {
		lines = append(lines[:20], fmt.Sprintf("  … and %d more", len(lines)-20))
	}
	return strings.Join(lines, "\n")
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func mark(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func secs(d time.Duration) string { return fmt.Sprintf("%.3f s", d.Seconds()) }

func mib(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }

func mibBytes(n int64) string { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }

// wire summarises what crossed the forge's HTTP layer during one run.
func wire(st forgetest.Stats) string {
	return fmt.Sprintf("wire: %d listings (%d ls-refs), upload-pack %d POSTs %s out, receive-pack %d POSTs %s in",
		st.Listings(), st.LsRefs, st.UploadPackPOSTs, mibBytes(st.UploadPackResponseBytes), st.ReceivePackPOSTs, mibBytes(st.ReceivePackRequestBytes))
}
