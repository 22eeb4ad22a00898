package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/bench/corerun"
	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// BenchmarkTwoWay times two-way sync against its baselines in the same run,
// on two pairs of repositories of the test forge holding the same history:
//
//   - a no-op (both sides equal: no pack asked for or sent) against two
//     `git ls-remote`, one per side, one after the other;
//   - one new commit on the source, and one on the target, each against the
//     one-way sync of the same commit on the other pair;
//   - one new commit on each side (two refs, one each way) against the
//     one-way sync of one commit.
//
// Each baseline is timed right next to its scenario, and which one runs
// first alternates. Each figure is the median of GM_BENCH_RUNS repetitions
// (default 15); the forge's count of the two-way sync's requests is printed
// beside it, and GM_BENCH_TRACE=1 adds the last run's request timeline:
//
//	go test -run '^$' -bench TwoWay -benchtime 1x ./bench/
func BenchmarkTwoWay(b *testing.B) {
	runs := envInt("GM_BENCH_RUNS", 15)
	f := forgetest.New(b)
	const user, token = "bench", "bench-two-way-token-5e1d"
	f.AddUser(user, token)
	for _, o := range []string{"a", "b", "c", "d"} {
		f.CreateRepo(o, "proj")
		f.Grant(user, o, "proj", forgetest.Write)
	}
	ep := func(owner string) mirror.Endpoint {
		return mirror.Endpoint{URL: f.GitURL(owner, "proj"), Username: user, Token: token}
	}
	quiet := slog.New(slog.DiscardHandler)
	twoWay := mirror.Options{Source: ep("a"), Target: ep("b"), TwoWay: true, Prune: true, CacheDir: b.TempDir(), Logger: quiet}
	oneWay := mirror.Options{Source: ep("c"), Target: ep("d"), Prune: true, CacheDir: b.TempDir(), Logger: quiet}
	w := forgetest.NewWork(b)
	push := func(owner string, refspecs ...string) {
		b.Helper()
		if err := w.Push(f.GitURL(owner, "proj"), user, token, refspecs...); err != nil {
			b.Fatal(err)
		}
	}
	traces := map[string][]string{} // with GM_BENCH_TRACE=1: the last run of each kind
	timedAs := func(kind string, opts mirror.Options) time.Duration {
		b.Helper()
		var tr *corerun.Tracer
		if os.Getenv(corerun.EnvTrace) == "1" {
			tr = corerun.NewTracer(mirror.DefaultHTTPClient())
			opts.HTTPClient = tr.Client(opts.Source.URL, opts.Target.URL)
		}
		start := time.Now()
		res, err := mirror.Sync(context.Background(), opts)
		d := time.Since(start)
		if err != nil || !res.OK() {
			b.Fatalf("sync: %v %+v", err, res)
		}
		if tr != nil {
			traces[kind] = tr.Lines()
		}
		return d
	}
	timed := func(opts mirror.Options) time.Duration { b.Helper(); return timedAs("", opts) }

	// A history of some weight, on all four repositories, synced once.
	for i := 0; i < 40; i++ {
		files := map[string]string{fmt.Sprintf("dir%d/file%d.txt", i%5, i%17): fmt.Sprintf("line %d\n%s", i, longText(i))}
		w.Commit(fmt.Sprintf("commit %d", i), files)
	}
	w.Tag("v1", "HEAD", true)
	for _, o := range []string{"a", "b", "c", "d"} {
		push(o, "main", "v1")
	}
	timed(twoWay)
	timed(oneWay)
	w.Branch("side")
	w.Checkout("main")
	push("a", "side")
	push("c", "side")
	timed(twoWay)
	timed(oneWay)

	// Each scenario is timed next to its own baseline, in an order that
	// alternates from run to run: the machine's state drifts, and other work
	// on it comes and goes.
	type scenario struct {
		got, base []time.Duration
		requests  string // the forge's count of the two-way sync's requests, last run
	}
	sc := map[string]*scenario{}
	for _, k := range []string{"noop", "source", "target", "each"} {
		sc[k] = &scenario{}
	}
	counted := func(kind string, opts mirror.Options) (time.Duration, string) {
		b.Helper()
		f.ResetStats()
		d := timedAs(kind, opts)
		st := f.Stats()
		return d, fmt.Sprintf("%d listings (%d upload-pack GET, %d receive-pack GET, %d ls-refs), %d fetch, %d push",
			st.Listings(), st.InfoRefsUploadPack, st.InfoRefsReceivePack, st.LsRefs, st.UploadPackPOSTs, st.ReceivePackPOSTs)
	}
	pair := func(i int, k string, two func() (time.Duration, string), base func() time.Duration) {
		b.Helper()
		var got, was time.Duration
		var reqs string
		if i%2 == 0 {
			got, reqs = two()
			was = base()
		} else {
			was = base()
			got, reqs = two()
		}
		sc[k].got, sc[k].base, sc[k].requests = append(sc[k].got, got), append(sc[k].base, was), reqs
	}
	lsRemote := func() time.Duration {
		start := time.Now()
		for _, o := range []string{"a", "b"} {
			if _, err := w.Git(user, token, "ls-remote", f.GitURL(o, "proj")); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(start)
	}
	oneWayTimed := func() time.Duration { b.Helper(); return timedAs("one-way", oneWay) }
	for i := 0; i < runs; i++ {
		// No-op, and its baseline.
		pair(i, "noop", func() (time.Duration, string) {
			d, reqs := counted("two-way no-op", twoWay)
			if st := f.Stats(); st.UploadPackPOSTs+st.ReceivePackPOSTs != 0 {
				b.Fatalf("two-way no-op made %d fetches and %d pushes", st.UploadPackPOSTs, st.ReceivePackPOSTs)
			}
			return d, reqs
		}, lsRemote)

		// One new commit on the source (main); the same commit one way.
		w.Commit(fmt.Sprintf("on the source %d", i), map[string]string{"one.txt": fmt.Sprint(i)})
		push("a", "main")
		push("c", "main")
		pair(i, "source", func() (time.Duration, string) { return counted("two-way, one commit on the source", twoWay) }, oneWayTimed)

		// One new commit on the target (side): the leg towards the source.
		w.Checkout("side")
		w.Commit(fmt.Sprintf("on the target %d", i), map[string]string{"two.txt": fmt.Sprint(i)})
		w.Checkout("main")
		push("b", "side")
		push("c", "side")
		pair(i, "target", func() (time.Duration, string) { return counted("two-way, one commit on the target", twoWay) }, oneWayTimed)

		// One new commit on each side, on two branches, against the one-way
		// sync of one of them.
		w.Commit(fmt.Sprintf("on a %d", i), map[string]string{"a.txt": fmt.Sprint(i)})
		push("a", "main")
		push("c", "main")
		w.Checkout("side")
		w.Commit(fmt.Sprintf("on b %d", i), map[string]string{"b.txt": fmt.Sprint(i)})
		w.Checkout("main")
		push("b", "side")
		pair(i, "each", func() (time.Duration, string) { return counted("two-way, one commit on each side", twoWay) }, oneWayTimed)
		// Keep the one-way pair level with the two-way one.
		push("c", "side")
		timed(oneWay)
	}

	med := func(ds []time.Duration) time.Duration {
		s := slices.Clone(ds)
		slices.Sort(s)
		return s[len(s)/2]
	}
	out := os.Stdout
	fmt.Fprintf(out, "\n== two-way sync vs its baselines (median of %d, each baseline timed next to its scenario) ==\n", runs)
	row := func(k, name, baseName string, limit float64) float64 {
		got, base := med(sc[k].got), med(sc[k].base)
		ratio := float64(got) / float64(base)
		fmt.Fprintf(out, "%-36s %8.1f ms   %-26s %8.1f ms   ratio %.2f (target <= %.1f)   two-way requests: %s\n",
			name, ms(got), baseName, ms(base), ratio, limit, sc[k].requests)
		return ratio
	}
	noopRatio := row("noop", "two-way no-op", "two git ls-remote", 1.0)
	srcRatio := row("source", "two-way, one commit on the source", "one-way, the same commit", 1.2)
	dstRatio := row("target", "two-way, one commit on the target", "one-way, the same commit", 1.2)
	eachRatio := row("each", "two-way, one commit on each side", "one-way, one commit", 2.0)
	for _, kind := range []string{"two-way no-op", "one-way", "two-way, one commit on the source", "two-way, one commit on the target", "two-way, one commit on each side"} {
		if lines := traces[kind]; len(lines) > 0 {
			fmt.Fprintf(out, "\n%s, last run's requests:\n  %s\n", kind, strings.Join(lines, "\n  "))
		}
	}
	b.ReportMetric(noopRatio, "noop/ls-remote")
	b.ReportMetric(srcRatio, "source/oneway")
	b.ReportMetric(dstRatio, "target/oneway")
	b.ReportMetric(eachRatio, "eachside/oneway")
}

// longText is a few hundred bytes that differ per commit, so packs carry
// real blobs.
func longText(i int) string {
	s := ""
	for j := 0; j < 20; j++ {
		s += fmt.Sprintf("%d-%d the quick brown fox jumps over the lazy dog\n", i, j)
	}
	return s
}
