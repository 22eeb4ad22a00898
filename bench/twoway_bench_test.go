package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// BenchmarkTwoWay times two-way sync against its baselines in the same run,
// on two pairs of repositories of the test forge holding the same history:
//
//   - a no-op (both sides equal: no pack asked for or sent) against two
//     `git ls-remote`, one per side, one after the other;
//   - one new commit on one side against the one-way sync of the same
//     commit on the other pair;
//   - one new commit on each side (two refs, one each way) against that
//     one-way sync of one commit.
//
// Both syncs of a comparison move the same objects with the same requests
// (checked once by hand with forgetest's Stats); which one runs first
// alternates. Each figure is the median of GM_BENCH_RUNS repetitions
// (default 9):
//
//	go test -run '^$' -bench TwoWay -benchtime 1x ./bench/
func BenchmarkTwoWay(b *testing.B) {
	runs := envInt("GM_BENCH_RUNS", 9)
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
	timed := func(opts mirror.Options) time.Duration {
		b.Helper()
		start := time.Now()
		res, err := mirror.Sync(context.Background(), opts)
		d := time.Since(start)
		if err != nil || !res.OK() {
			b.Fatalf("sync: %v %+v", err, res)
		}
		return d
	}

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

	var noop, lsRemote, oneSide, oneWayOne, eachSide []time.Duration
	for i := 0; i < runs; i++ {
		// No-op, and its baseline.
		f.ResetStats()
		noop = append(noop, timed(twoWay))
		if st := f.Stats(); st.UploadPackPOSTs+st.ReceivePackPOSTs != 0 {
			b.Fatalf("two-way no-op made %d fetches and %d pushes", st.UploadPackPOSTs, st.ReceivePackPOSTs)
		}
		start := time.Now()
		for _, o := range []string{"a", "b"} {
			if _, err := w.Git(user, token, "ls-remote", f.GitURL(o, "proj")); err != nil {
				b.Fatal(err)
			}
		}
		lsRemote = append(lsRemote, time.Since(start))

		// One new commit on one side; the same commit one way.
		w.Commit(fmt.Sprintf("one side %d", i), map[string]string{"one.txt": fmt.Sprint(i)})
		push("a", "main")
		push("c", "main")
		if i%2 == 0 { // alternate which goes first: the machine's state drifts
			oneSide = append(oneSide, timed(twoWay))
			oneWayOne = append(oneWayOne, timed(oneWay))
		} else {
			oneWayOne = append(oneWayOne, timed(oneWay))
			oneSide = append(oneSide, timed(twoWay))
		}

		// One new commit on each side, on two branches.
		w.Commit(fmt.Sprintf("on a %d", i), map[string]string{"a.txt": fmt.Sprint(i)})
		push("a", "main")
		w.Checkout("side")
		w.Commit(fmt.Sprintf("on b %d", i), map[string]string{"b.txt": fmt.Sprint(i)})
		push("b", "side")
		w.Checkout("main")
		eachSide = append(eachSide, timed(twoWay))
		// Keep the one-way pair level with the two-way one.
		push("c", "main", "side")
		timed(oneWay)
	}

	med := func(ds []time.Duration) time.Duration {
		s := slices.Clone(ds)
		slices.Sort(s)
		return s[len(s)/2]
	}
	out := os.Stdout
	fmt.Fprintf(out, "\n== two-way sync vs its baselines (median of %d) ==\n", runs)
	row := func(name string, got, base time.Duration, baseName string, limit float64) {
		ratio := float64(got) / float64(base)
		fmt.Fprintf(out, "%-34s %8.1f ms   %-30s %8.1f ms   ratio %.2f (target <= %.1f)\n",
			name, ms(got), baseName, ms(base), ratio, limit)
	}
	row("two-way no-op", med(noop), med(lsRemote), "two git ls-remote", 1.0)
	row("two-way, one commit on one side", med(oneSide), med(oneWayOne), "one-way, the same commit", 1.2)
	row("two-way, one commit on each side", med(eachSide), med(oneWayOne), "one-way, one commit", 2.0)
	b.ReportMetric(float64(med(noop))/float64(med(lsRemote)), "noop/ls-remote")
	b.ReportMetric(float64(med(oneSide))/float64(med(oneWayOne)), "oneside/oneway")
	b.ReportMetric(float64(med(eachSide))/float64(med(oneWayOne)), "eachside/oneway")
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
