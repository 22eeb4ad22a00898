package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/bench/corerun"
)

// usage is what one measured run cost on the client side.
type usage struct {
	// Wall is from the start of the measured process to its reaping.
	Wall time.Duration
	// MaxRSS is ru_maxrss from wait4 of the measured process, in KiB: the
	// largest resident set of that process or of any descendant it waited
	// for. It is a maximum over processes, not a sum (see checkRusage), and
	// never below the launcher's own small high-water mark (see
	// bench/launcher).
	MaxRSS int64
	// CPU is the user and system time of the measured process and the
	// children it waited for (wait4's rusage).
	CPU time.Duration
	// TreeRSS is the largest sum of the resident sets of the measured
	// process and all its live descendants, sampled from /proc every
	// sampleEvery, in KiB. Short peaks between samples are missed.
	TreeRSS int64
}

// add combines runs of one scenario that happen one after the other: times
// add up, peaks are the larger one.
func (u usage) add(v usage) usage {
	return usage{Wall: u.Wall + v.Wall, MaxRSS: max(u.MaxRSS, v.MaxRSS), CPU: u.CPU + v.CPU, TreeRSS: max(u.TreeRSS, v.TreeRSS)}
}

const sampleEvery = 10 * time.Millisecond

// launcherPath is the launcher binary (see bench/launcher and
// buildLauncher); every measured command runs under it.
var launcherPath string

// buildLauncher builds bench/launcher into dir, unless GM_BENCH_LAUNCHER
// names a launcher already built.
func buildLauncher(dir string) (string, error) {
	if p := os.Getenv("GM_BENCH_LAUNCHER"); p != "" {
		return filepath.Abs(p)
	}
	p := filepath.Join(dir, "launcher")
	if err := goBuild(p, "github.com/gitee-mirror/gitee-mirror/bench/launcher"); err != nil {
		return "", fmt.Errorf("building the launcher (or set GM_BENCH_LAUNCHER): %w", err)
	}
	return p, nil
}

// goBuild builds the package pkg into the program out as the Dockerfile
// builds the shipped ones: statically, without cgo. A default build on a
// machine with a C compiler links libc dynamically, and such a program
// starts about 3.5 ms slower here (ld.so, libc, cgo's threads): a cost the
// Action and the App do not have.
func goBuild(out, pkg string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return nil
}

// measure runs cmd under the launcher and reports its wall time (start to
// reaped, as the launcher saw it), ru_maxrss and the sampled peak RSS of
// its process tree (the launcher left out). Standard output is returned;
// standard error is kept for the error.
func measure(cmd *exec.Cmd) (usage, []byte, error) {
	path, err := filepath.Abs(cmd.Path)
	if err != nil {
		return usage{}, nil, err
	}
	l := exec.Command(launcherPath, append([]string{path}, cmd.Args[1:]...)...)
	l.Dir, l.Env = cmd.Dir, cmd.Env
	pr, pw, err := os.Pipe()
	if err != nil {
		return usage{}, nil, err
	}
	defer pr.Close()
	l.ExtraFiles = []*os.File{pw}
	var stdout, stderr bytes.Buffer
	l.Stdout, l.Stderr = &stdout, &stderr
	if err := l.Start(); err != nil {
		pw.Close()
		return usage{}, nil, err
	}
	pw.Close()
	stop := make(chan struct{})
	peak := make(chan int64, 1)
	go func() { peak <- sampleTree(l.Process.Pid, stop) }()
	report, rerr := io.ReadAll(pr)
	err = l.Wait()
	close(stop)
	u := usage{TreeRSS: <-peak}
	var wall, cpu int64
	if rerr == nil {
		_, rerr = fmt.Sscan(string(report), &wall, &u.MaxRSS, &cpu)
	}
	u.Wall, u.CPU = time.Duration(wall), time.Duration(cpu)
	if err != nil {
		return u, stdout.Bytes(), fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, tail(stderr.String(), 2000))
	}
	if rerr != nil {
		return u, stdout.Bytes(), fmt.Errorf("%s: no report from the launcher: %v", strings.Join(cmd.Args, " "), rerr)
	}
	return u, stdout.Bytes(), nil
}

// maxRSSDirect runs cmd as a direct child of this process and returns its
// ru_maxrss in KiB, to show what the launcher avoids.
func maxRSSDirect(cmd *exec.Cmd) (int64, error) {
	if err := cmd.Run(); err != nil {
		return 0, err
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if ru == nil {
		return 0, fmt.Errorf("no rusage")
	}
	return ru.Maxrss, nil
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

var pageKiB = int64(os.Getpagesize() / 1024)

// sampleTree polls /proc until stop is closed and returns the largest sum
// of resident set sizes (KiB) seen over the descendants of root (the
// launcher, which itself is left out).
func sampleTree(root int, stop <-chan struct{}) int64 {
	var best int64
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	for {
		if s := treeRSS(root); s > best {
			best = s
		}
		select {
		case <-stop:
			return best
		case <-t.C:
		}
	}
}

// treeRSS sums the RSS of every descendant of root (KiB). It walks the
// tree from root through /proc/PID/task/TID/children, reading only the
// tree's own files; without that file (a kernel built without
// CONFIG_PROC_CHILDREN) it falls back to scanning every process's parent
// in /proc/*/stat, which costs a good part of a core at sampleEvery while
// the forges run many git processes. Processes that end while being read
// are skipped.
func treeRSS(root int) int64 {
	if !childrenFileExists() {
		return treeRSSByScan(root)
	}
	kids := childrenOf(root)
	var sum int64
	seen := map[int]bool{root: true}
	for len(kids) > 0 {
		pid := kids[len(kids)-1]
		kids = kids[:len(kids)-1]
		if seen[pid] {
			continue
		}
		seen[pid] = true
		sum += rssKiB(pid)
		kids = append(kids, childrenOf(pid)...)
	}
	return sum
}

// childrenOf lists pid's children from each of its threads' children
// file (none when pid is gone).
func childrenOf(pid int) []int {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var kids []int
	for _, t := range tasks {
		b, err := os.ReadFile(dir + "/" + t.Name() + "/children")
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if k, err := strconv.Atoi(f); err == nil {
				kids = append(kids, k)
			}
		}
	}
	return kids
}

// childrenFileExists reports whether this kernel has
// /proc/PID/task/TID/children.
var childrenFileExists = sync.OnceValue(func() bool {
	_, err := os.Stat(fmt.Sprintf("/proc/self/task/%d/children", os.Getpid()))
	return err == nil
})

// rssKiB is pid's resident set in KiB, 0 when it is gone.
func rssKiB(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * pageKiB
}

// treeRSSByScan is treeRSS from every process's parent in /proc/*/stat.
func treeRSSByScan(root int) int64 {
	var sum int64
	for _, pid := range descendantsByScan(root) {
		sum += rssKiB(pid)
	}
	return sum
}

// descendantsByScan lists root's descendants from the parent pid of every
// process in /proc/*/stat. Processes that end while being read are
// skipped.
func descendantsByScan(root int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	parent := map[int]int{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces and parens.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		parent[pid] = ppid
	}
	var out []int
	for pid := range parent {
		for p, hops := parent[pid], 0; p > 1 && hops < 64; p, hops = parent[p], hops+1 {
			if p == root {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}

// gitCmd is a git command for the baseline: no user or system
// configuration, HOME in a temp dir, and, with a token, HTTP basic auth
// through an extra header set in the environment (never in argv or a URL).
func gitCmd(home, dir, login, token string, args ...string) *exec.Cmd {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = gitEnv(home)
	if token != "" {
		cmd.Env = append(cmd.Env,
			"GIT_CONFIG_COUNT=1",
			"GIT_CONFIG_KEY_0=http.extraHeader",
			"GIT_CONFIG_VALUE_0=Authorization: Basic "+basicAuth(login, token),
		)
	}
	return cmd
}

func gitEnv(home string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_TERMINAL_PROMPT=0",
		"LC_ALL=C",
	}
	if d := os.Getenv("TMPDIR"); d != "" {
		env = append(env, "TMPDIR="+d)
	}
	return env
}

// Environment of the core helper process (bench/corerun). Tokens travel
// only here.
const (
	envHelper    = corerun.EnvHelper
	envSrcURL    = corerun.EnvSrcURL
	envSrcUser   = corerun.EnvSrcUser
	envSrcToken  = corerun.EnvSrcToken
	envDstURL    = corerun.EnvDstURL
	envDstUser   = corerun.EnvDstUser
	envDstToken  = corerun.EnvDstToken
	envLFS       = corerun.EnvLFS
	envCacheDir  = corerun.EnvCacheDir
	envHogMiB    = "GM_BENCH_HOG_MIB"
	envParentMiB = "GM_BENCH_PARENT_MIB"
	resultPrefix = corerun.ResultPrefix
)

// coreReport is what the helper process prints about its sync.
type coreReport = corerun.Report

// TestCoreHelperProcess is not a test: benchmarks re-execute the test
// binary to run one mirror.Sync in a process of its own, so that its peak
// memory and time are measured like the git CLI's. BenchmarkMirror runs
// bench/corehelper instead, which links only the core.
func TestCoreHelperProcess(t *testing.T) {
	if os.Getenv(envHelper) != "core" {
		t.Skip("helper process for BenchmarkMirror")
	}
	corerun.Main()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// TestRusageHelperProcess is not a test either: it allocates and touches
// memory (and, as "parent", also starts a child that does the same and
// waits for it) so that checkRusage can see what ru_maxrss counts.
func TestRusageHelperProcess(t *testing.T) {
	var own []byte
	switch os.Getenv(envHelper) {
	case "hog":
		own = touch(envMiB(envHogMiB))
		time.Sleep(50 * time.Millisecond)
	case "parent":
		own = touch(envMiB(envParentMiB))
		cmd := exec.Command(os.Args[0], "-test.run=^TestRusageHelperProcess$")
		cmd.Env = append(os.Environ(), envHelper+"=hog")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
	default:
		t.Skip("helper process for BenchmarkMirror")
	}
	runtime.KeepAlive(own)
}

func envMiB(key string) int {
	n, _ := strconv.Atoi(os.Getenv(key))
	return n
}

func touch(mib int) []byte {
	b := make([]byte, mib<<20)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	return b
}

// rusageCheck is what checkRusage found, in KiB.
type rusageCheck struct {
	Floor       int64 // `true` through the launcher: the launcher's own floor
	Direct      int64 // `true` started directly by the benchmark process
	ChildAlone  int64 // hog alone
	ParentWaits int64 // a parent holding nothing, waiting for the hog
	Both        int64 // a parent holding memory while the hog runs
	BothTree    int64 // the same, sampled sum over the tree
	hog, parent int   // MiB touched
}

// checkRusage verifies what ru_maxrss of a measured process includes:
// the floor the launcher adds; a child alone; a parent that waits for the
// same child; a parent holding memory of its own while the child runs.
func checkRusage() (rusageCheck, error) {
	c := rusageCheck{hog: 96, parent: 64}
	run := func(mode string, parentMiB int) (usage, error) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRusageHelperProcess$")
		cmd.Env = append(os.Environ(), envHelper+"="+mode,
			envHogMiB+"="+strconv.Itoa(c.hog), envParentMiB+"="+strconv.Itoa(parentMiB))
		u, _, err := measure(cmd)
		return u, err
	}
	u, _, err := measure(exec.Command("true"))
	if err != nil {
		return c, err
	}
	c.Floor = u.MaxRSS
	if c.Direct, err = maxRSSDirect(exec.Command("true")); err != nil {
		return c, err
	}
	if u, err = run("hog", 0); err != nil {
		return c, err
	}
	c.ChildAlone = u.MaxRSS
	if u, err = run("parent", 0); err != nil {
		return c, err
	}
	c.ParentWaits = u.MaxRSS
	if u, err = run("parent", c.parent); err != nil {
		return c, err
	}
	c.Both, c.BothTree = u.MaxRSS, u.TreeRSS
	return c, nil
}

// coreRun runs one mirror.Sync in a helper process and measures it.
// profile, if not empty, is where the helper writes a CPU profile.
func coreRun(src, dst endpoint, profile string) (usage, coreReport, error) {
	return coreRunCache(src, dst, "", profile, "")
}

// coreHelperPath is bench/corehelper once built (buildCoreHelper); until
// then the core runs in the test binary.
var coreHelperPath string

// buildCoreHelper builds bench/corehelper into dir, unless
// GM_BENCH_CORE_HELPER names one already built (e.g. from another commit,
// to compare cores with the same benchmark).
func buildCoreHelper(dir string) (string, error) {
	if p := os.Getenv("GM_BENCH_CORE_HELPER"); p != "" {
		return filepath.Abs(p)
	}
	p := filepath.Join(dir, "corehelper")
	if err := goBuild(p, "github.com/gitee-mirror/gitee-mirror/bench/corehelper"); err != nil {
		return "", fmt.Errorf("building bench/corehelper: %w", err)
	}
	return p, nil
}

// coreRunCache is coreRun with Options.CacheDir set to cache (none when
// empty). With a profile, an allocation profile is written beside it
// (".pprof" becomes ".mem.pprof").
func coreRunCache(src, dst endpoint, cache, profile, hints string) (usage, coreReport, error) {
	var cmd *exec.Cmd
	var env []string
	if coreHelperPath != "" {
		cmd = exec.Command(coreHelperPath)
		if profile != "" {
			env = append(env, corerun.EnvCPUProfile+"="+profile, corerun.EnvMemProfile+"="+strings.TrimSuffix(profile, ".pprof")+".mem.pprof")
		}
	} else {
		args := []string{"-test.run=^TestCoreHelperProcess$", "-test.count=1"}
		if profile != "" {
			args = append(args, "-test.cpuprofile="+profile, "-test.memprofile="+strings.TrimSuffix(profile, ".pprof")+".mem.pprof")
		}
		cmd = exec.Command(os.Args[0], args...)
	}
	cmd.Env = append(append(os.Environ(), env...),
		envHelper+"=core",
		envSrcURL+"="+src.url, envSrcUser+"="+src.login, envSrcToken+"="+src.token,
		envDstURL+"="+dst.url, envDstUser+"="+dst.login, envDstToken+"="+dst.token,
		envCacheDir+"="+cache,
		corerun.EnvHints+"="+hints,
	)
	u, out, err := measure(cmd)
	var rep coreReport
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 16<<20) // a traced run's result line holds every request
	found := false
	for sc.Scan() {
		if s, ok := strings.CutPrefix(sc.Text(), resultPrefix); ok {
			found = true
			if jerr := json.Unmarshal([]byte(s), &rep); jerr != nil {
				return u, rep, jerr
			}
		}
	}
	if err != nil {
		return u, rep, err
	}
	if !found {
		return u, rep, fmt.Errorf("core helper printed no result:\n%s", tail(string(out), 2000))
	}
	if rep.Error != "" {
		return u, rep, fmt.Errorf("mirror.Sync: %s", rep.Error)
	}
	if !rep.OK {
		return u, rep, fmt.Errorf("mirror.Sync: some refs are not in sync: %+v", rep)
	}
	return u, rep, nil
}

// profilePath names a CPU profile for one core run, or "" when profiles
// were not asked for (GM_BENCH_CPUPROFILE_DIR).
func profilePath(scenario string, rep int) string {
	dir := os.Getenv("GM_BENCH_CPUPROFILE_DIR")
	if dir == "" {
		return ""
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	return filepath.Join(abs, fmt.Sprintf("core-%s-%d.pprof", scenario, rep))
}

// median of the runs of one side of a scenario, per measure.
func median(runs []usage) usage {
	pick := func(f func(usage) int64) int64 {
		v := make([]int64, len(runs))
		for i, r := range runs {
			v[i] = f(r)
		}
		slices.Sort(v)
		n := len(v)
		if n == 0 {
			return 0
		}
		if n%2 == 1 {
			return v[n/2]
		}
		return (v[n/2-1] + v[n/2]) / 2
	}
	return usage{
		Wall:    time.Duration(pick(func(u usage) int64 { return int64(u.Wall) })),
		MaxRSS:  pick(func(u usage) int64 { return u.MaxRSS }),
		CPU:     time.Duration(pick(func(u usage) int64 { return int64(u.CPU) })),
		TreeRSS: pick(func(u usage) int64 { return u.TreeRSS }),
	}
}

// TestTreeRSS checks the two ways of summing a process tree agree: a
// shell with two children and a grandchild.
func TestTreeRSS(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	cmd := exec.Command("sh", "-c", "sleep 5 & (sleep 5 & wait) & wait")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	// Wait until the tree has formed: sh, sleep, a subshell and its sleep.
	deadline := time.Now().Add(5 * time.Second)
	for len(descendantsByScan(cmd.Process.Pid)) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("the process tree did not form: %d descendants", len(descendantsByScan(cmd.Process.Pid)))
		}
		time.Sleep(10 * time.Millisecond)
	}
	byScan := treeRSSByScan(cmd.Process.Pid)
	walked := treeRSS(cmd.Process.Pid)
	if byScan <= 0 || walked <= 0 {
		t.Fatalf("treeRSS = %d KiB, by scan %d KiB: want both positive", walked, byScan)
	}
	// Resident sets move a little between the two reads.
	if d := walked - byScan; d < -byScan/10 || d > byScan/10 {
		t.Errorf("treeRSS = %d KiB, by scan %d KiB: more than 10%% apart", walked, byScan)
	}
	if !childrenFileExists() {
		t.Log("this kernel has no /proc/PID/task/TID/children: both sums came from the scan")
	}
}
