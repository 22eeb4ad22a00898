package bench

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/lfs"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// BenchmarkLFS answers issue 15's performance section: a repository whose
// commits point to GM_BENCH_LFS_SMALL (200) LFS objects of 1 MiB and
// GM_BENCH_LFS_LARGE (10) of GM_BENCH_LFS_LARGE_MIB (50) MiB, mirrored
// through the forge by the sync core (lfs: copy) and, in the same run, the
// way hub-mirror-action does it: git clone --mirror, git lfs fetch --all,
// git lfs push --all, git push --mirror. Then one new commit with two new
// 1 MiB objects, mirrored again by both (git from its clone of the first
// mirror, the core from nothing, as an Action run without cache-path).
// Each of GM_BENCH_LFS_RUNS (3) runs mirrors into new targets, git and the
// core going first in turn; the table shows medians.
func BenchmarkLFS(b *testing.B) {
	if err := exec.Command("git", "lfs", "version").Run(); err != nil {
		b.Skip("git lfs is not installed")
	}
	out := os.Stdout
	small, large, largeMiB := envInt("GM_BENCH_LFS_SMALL", 200), envInt("GM_BENCH_LFS_LARGE", 10), envInt("GM_BENCH_LFS_LARGE_MIB", 50)
	runs := envInt("GM_BENCH_LFS_RUNS", 3)
	lfsVersion, _ := exec.Command("git", "lfs", "version").Output()
	fmt.Fprintf(out, "\n== gitee-mirror benchmark: LFS objects, sync core vs git + git lfs ==\n%s %s/%s, %d CPUs, %s",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), lfsVersion)
	var err error
	if launcherPath, err = buildLauncher(b.TempDir()); err != nil {
		b.Fatal(err)
	}

	f := forgetest.New(b, forgetest.LowPriorityGit())
	f.AddUser(reader, srcToken)
	f.AddUser(writer, dstToken)
	f.Grant(reader, srcOwner, "*", forgetest.Read)
	f.Grant(writer, dstOwner, "*", forgetest.Write)
	f.Grant(writer, srcOwner, "*", forgetest.Write) // to make the source's history
	f.CreateRepo(srcOwner, "lfs")
	src := endpoint{f.GitURL(srcOwner, "lfs"), reader, srcToken}

	// The source: objects straight into the forge's storage, pointers
	// committed as ordinary files over ten commits; the last one removes
	// the first commit's files, whose objects are then only in history.
	start := time.Now()
	rng := rand.New(rand.NewChaCha8([32]byte{15}))
	w := forgetest.NewWork(b)
	var total int64
	n := 0
	put := func(size int64) string {
		p := writeObject(b, f, srcOwner, "lfs", rng, size)
		total += size
		n++
		return string(p.Encode())
	}
	var first []string
	for c := range 10 {
		files := map[string]string{}
		for i := c * small / 10; i < (c+1)*small/10; i++ {
			files[fmt.Sprintf("small/%03d.bin", i)] = put(1 << 20)
		}
		for i := c * large / 10; i < (c+1)*large/10; i++ {
			files[fmt.Sprintf("large/%02d.bin", i)] = put(int64(largeMiB) << 20)
		}
		if c == 0 {
			for name := range files {
				first = append(first, name)
			}
		}
		if c == 9 {
			for _, name := range first {
				if err := os.Remove(filepath.Join(w.Dir, name)); err != nil {
					b.Fatal(err)
				}
			}
		}
		w.Commit(fmt.Sprintf("commit %d", c), files)
	}
	w.Tag("v1", "HEAD", true)
	if err := w.Push(f.GitURL(srcOwner, "lfs"), writer, dstToken, "main", "v1"); err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(out, "source: %d LFS objects, %.0f MiB (%d of 1 MiB, %d of %d MiB), 10 commits; made in %s\n\n",
		n, float64(total)/(1<<20), small, large, largeMiB, time.Since(start).Round(100*time.Millisecond))

	home := b.TempDir()
	git := func(dir string, ep endpoint, args ...string) usage {
		b.Helper()
		cmd := gitCmd(home, dir, ep.login, ep.token, args...)
		cmd.Env = append(cmd.Env[:len(cmd.Env)-3:len(cmd.Env)-3], // lfs.locksverify: the forge has no locking API
			"GIT_CONFIG_COUNT=2",
			"GIT_CONFIG_KEY_0=http.extraHeader", "GIT_CONFIG_VALUE_0=Authorization: Basic "+basicAuth(ep.login, ep.token),
			"GIT_CONFIG_KEY_1=lfs.locksverify", "GIT_CONFIG_VALUE_1=false")
		u, _, err := measure(cmd)
		if err != nil {
			b.Fatalf("git baseline: %v", err)
		}
		return u
	}
	b.Setenv(envLFS, string(mirror.LFSCopy))
	core := func(dst endpoint, want int) (usage, coreReport) {
		b.Helper()
		u, r, err := coreRun(src, dst, "")
		if err != nil {
			b.Fatalf("core: %v", err)
		}
		if r.LFSUploaded != want || r.LFSMissing != 0 {
			b.Fatalf("core uploaded %d LFS objects (%d missing), want %d", r.LFSUploaded, r.LFSMissing, want)
		}
		if len(r.Trace) > 0 { // GM_BENCH_TRACE=1
			fmt.Fprintf(out, "core requests:\n  %s\n", strings.Join(r.Trace, "\n  "))
		}
		return u, r
	}
	check := func(target string) {
		b.Helper()
		if got, want := len(f.LFSObjects(dstOwner, target)), len(f.LFSObjects(srcOwner, "lfs")); got != want {
			b.Fatalf("%s has %d LFS objects, the source %d", target, got, want)
		}
	}
	// Each run mirrors into new empty targets, one for each side, which go
	// first in turn; then the runs' incremental syncs, likewise.
	var firstGit, firstCore, incGit, incCore []usage
	type pair struct{ gitDst, coreDst endpoint }
	var pairs []pair
	var clones []string
	for run := range runs {
		names := [2]string{fmt.Sprintf("lfs-git-%d", run), fmt.Sprintf("lfs-core-%d", run)}
		for _, name := range names {
			f.CreateRepo(dstOwner, name)
		}
		p := pair{endpoint{f.GitURL(dstOwner, names[0]), writer, dstToken}, endpoint{f.GitURL(dstOwner, names[1]), writer, dstToken}}
		pairs = append(pairs, p)
		dir := b.TempDir()
		mirrorDir := filepath.Join(dir, "mirror.git")
		clones = append(clones, mirrorDir)
		gitSide := func() {
			g1 := git(dir, src, "clone", "--mirror", "-q", src.url, mirrorDir)
			g2 := git(mirrorDir, src, "lfs", "fetch", "--all")
			g3 := git(mirrorDir, p.gitDst, "lfs", "push", "--all", p.gitDst.url)
			g4 := git(mirrorDir, p.gitDst, "push", "--mirror", "-q", p.gitDst.url)
			u := g1.add(g2).add(g3).add(g4)
			fmt.Fprintf(out, "run %d first git:  clone --mirror %s + lfs fetch --all %s + lfs push --all %s + push --mirror %s = %s; cpu %s, maxrss %s, tree %s\n",
				run+1, secs(g1.Wall), secs(g2.Wall), secs(g3.Wall), secs(g4.Wall), secs(u.Wall), secs(u.CPU), mib(u.MaxRSS), mib(u.TreeRSS))
			check(names[0])
			firstGit = append(firstGit, u)
		}
		coreSide := func() {
			u, r := core(p.coreDst, n)
			fmt.Fprintf(out, "run %d first core: mirror.Sync %s (Sync itself %s); cpu %s, maxrss %s, tree %s; %d objects uploaded\n",
				run+1, secs(u.Wall), secs(time.Duration(r.Duration)), secs(u.CPU), mib(u.MaxRSS), mib(u.TreeRSS), r.LFSUploaded)
			check(names[1])
			firstCore = append(firstCore, u)
		}
		inTurn(run, gitSide, coreSide)
	}
	// One new commit with two new objects, per run, to the first run's
	// targets.
	for run := range runs {
		p := pairs[0]
		w.Commit(fmt.Sprintf("two new objects %d", run), map[string]string{fmt.Sprintf("new/%d-a.bin", run): put(1 << 20), fmt.Sprintf("new/%d-b.bin", run): put(1 << 20)})
		if err := w.Push(f.GitURL(srcOwner, "lfs"), writer, dstToken, "main"); err != nil {
			b.Fatal(err)
		}
		mirrorDir := clones[0]
		gitSide := func() {
			h1 := git(mirrorDir, src, "remote", "update", "--prune")
			h2 := git(mirrorDir, src, "lfs", "fetch", "--all")
			h3 := git(mirrorDir, p.gitDst, "lfs", "push", "--all", p.gitDst.url)
			h4 := git(mirrorDir, p.gitDst, "push", "--mirror", "-q", p.gitDst.url)
			u := h1.add(h2).add(h3).add(h4)
			fmt.Fprintf(out, "run %d incremental git:  remote update %s + lfs fetch --all %s + lfs push --all %s + push --mirror %s = %s; cpu %s, maxrss %s, tree %s\n",
				run+1, secs(h1.Wall), secs(h2.Wall), secs(h3.Wall), secs(h4.Wall), secs(u.Wall), secs(u.CPU), mib(u.MaxRSS), mib(u.TreeRSS))
			check("lfs-git-0")
			incGit = append(incGit, u)
		}
		coreSide := func() {
			u, r := core(p.coreDst, 2)
			fmt.Fprintf(out, "run %d incremental core: mirror.Sync %s (Sync itself %s); cpu %s, maxrss %s, tree %s; %d objects uploaded\n",
				run+1, secs(u.Wall), secs(time.Duration(r.Duration)), secs(u.CPU), mib(u.MaxRSS), mib(u.TreeRSS), r.LFSUploaded)
			check("lfs-core-0")
			incCore = append(incCore, u)
		}
		inTurn(run, gitSide, coreSide)
	}

	// Each run's two sides ran one right after the other, so their ratio
	// is less exposed to the machine's drift than a ratio of medians.
	firstRatio, firstRuns := pairedRatio(firstCore, firstGit)
	inc, incRuns := pairedRatio(incCore, incGit)
	firstRSS, incRSS := maxRSS(firstCore), maxRSS(incCore)
	fmt.Fprintf(out, "\n| scenario | git + git lfs (median) | core (median) | core/git, median of %d runs (each run) | core peak RSS (max) | goal |\n|---|---|---|---|---|---|\n", runs)
	fmt.Fprintf(out, "| first mirror | %s | %s | %.2f× (%s) | %s | ≤ 0.5×, < 64 MiB %s |\n", secs(medianWall(firstGit)), secs(medianWall(firstCore)), firstRatio, firstRuns,
		mib(firstRSS), mark(firstRatio <= 0.5 && firstRSS < 64*1024))
	fmt.Fprintf(out, "| 2 new objects | %s | %s | %.2f× (%s) | %s | ≤ 0.2× %s |\n", secs(medianWall(incGit)), secs(medianWall(incCore)), inc, incRuns,
		mib(incRSS), mark(inc <= 0.2))
	b.ReportMetric(firstRatio, "first/git")
	b.ReportMetric(inc, "incremental/git")
	b.ReportMetric(float64(firstRSS)/1024, "peak-MiB")
}

// pairedRatio is the median of the runs' core/git ratios, and the ratios.
func pairedRatio(core, git []usage) (float64, string) {
	rs := make([]float64, len(core))
	each := make([]string, len(core))
	for i := range core {
		rs[i] = ratio(ms(core[i].Wall), ms(git[i].Wall))
		each[i] = fmt.Sprintf("%.2f", rs[i])
	}
	slices.Sort(rs)
	return rs[len(rs)/2], strings.Join(each, ", ")
}

// inTurn runs a then b on even runs, b then a on odd ones: the machine's
// state drifts, and other work on it comes and goes.
func inTurn(run int, a, b func()) {
	if run%2 == 0 {
		a()
		b()
		return
	}
	b()
	a()
}

func medianWall(us []usage) time.Duration {
	ds := make([]time.Duration, len(us))
	for i, u := range us {
		ds[i] = u.Wall
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

func maxRSS(us []usage) int64 {
	var m int64
	for _, u := range us {
		m = max(m, u.MaxRSS)
	}
	return m
}

// writeObject stores size pseudo-random bytes as an LFS object of
// owner/repo on f, streamed, and returns its pointer.
func writeObject(b *testing.B, f *forgetest.Forge, owner, repo string, rng *rand.Rand, size int64) lfs.Pointer {
	b.Helper()
	dir := filepath.Dir(f.LFSObjectPath(owner, repo, "x"))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	tmp, err := os.CreateTemp(dir, "tmp-")
	if err != nil {
		b.Fatal(err)
	}
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for left := size; left > 0; {
		chunk := buf[:min(left, int64(len(buf)))]
		for i := 0; i < len(chunk); i += 8 {
			v := rng.Uint64()
			for j := 0; j < 8 && i+j < len(chunk); j++ {
				chunk[i+j] = byte(v >> (8 * j))
			}
		}
		if _, err := io.MultiWriter(tmp, h).Write(chunk); err != nil {
			b.Fatal(err)
		}
		left -= int64(len(chunk))
	}
	tmp.Close()
	oid := hex.EncodeToString(h.Sum(nil))
	if err := os.Rename(tmp.Name(), f.LFSObjectPath(owner, repo, oid)); err != nil {
		b.Fatal(err)
	}
	return lfs.Pointer{OID: oid, Size: size}
}
