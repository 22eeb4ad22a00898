package bench

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/pgtest"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// appBenchConfig is what App a benchmark runs.
type appBenchConfig struct {
	// repos are made on the GitHub side with one commit each (pushed with
	// git), named svc-NNN.
	repos int
	// replicas is how many App processes run; more than one needs postgres.
	replicas int
	// postgres puts the App on one database of a throw-away cluster
	// (internal/pgtest) instead of an SQLite file in its data directory.
	postgres bool
	// env is more GITEE_MIRROR_* settings for every replica.
	env []string
	// forgeOpts are more options for both forges.
	forgeOpts []forgetest.Option
	// shareCPUs gives each replica its share of the machine's CPUs as its
	// GOMAXPROCS (at least 1), as a container's CPU limit would, unless
	// GM_BENCH_APP_GOMAXPROCS says otherwise.
	shareCPUs bool
}

// appBench is the App as processes of their own (one or more replicas on
// one database), two test forges and a work tree that pushes to the
// GitHub one.
type appBench struct {
	b        *testing.B
	cfg      appBenchConfig
	gh, ge   *forgetest.Forge
	bin      string
	keyFile  string
	pg       *pgtest.Database // nil: SQLite
	pwFile   string           // the database password, for the replicas
	reps     []*appReplica
	base     string // replica 0's root URL: setup and the admin API
	work     *forgetest.Work
	baseHead string // the first commit, on every repository
	repos    []appRepo
	client   *http.Client // deliveries: a new connection each, as GitHub's
	admin    *http.Client
}

// appReplica is one App process.
type appReplica struct {
	n       int
	addr    string
	base    string
	dataDir string // SQLite's file (replica 0 only) and the commit-graph cache
	logPath string
	cmd     *exec.Cmd
	exited  chan error
}

type appRepo struct {
	name string
	head string // last commit pushed to its main
}

// newAppBench builds the App, makes the forges, the database and the
// configured repositories with one commit each. start starts the App;
// setup does the rest.
func newAppBench(b *testing.B, cfg appBenchConfig) *appBench {
	b.Helper()
	cfg.replicas = max(cfg.replicas, 1)
	if cfg.replicas > 1 && !cfg.postgres {
		b.Fatal("several App replicas need Postgres")
	}
	tmp := b.TempDir()
	a := &appBench{
		b:       b,
		cfg:     cfg,
		bin:     filepath.Join(tmp, "gitee-mirror-app"),
		keyFile: filepath.Join(tmp, "app.pem"),
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			DisableKeepAlives: true, DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}},
		admin: &http.Client{Timeout: 60 * time.Second},
	}
	if err := goBuild(a.bin, "github.com/gitee-mirror/gitee-mirror/app"); err != nil {
		b.Fatalf("building the App: %v", err)
	}
	if cfg.postgres {
		a.pg = pgtest.New(b)
		a.pwFile = filepath.Join(tmp, "db-password")
		if err := os.WriteFile(a.pwFile, []byte(a.pg.Password()), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	a.gh = forgetest.New(b, append([]forgetest.Option{forgetest.LowPriorityGit()}, cfg.forgeOpts...)...)
	a.ge = forgetest.New(b, append([]forgetest.Option{forgetest.RequireLoginAsUsername(), forgetest.LowPriorityGit()}, cfg.forgeOpts...)...)
	key := a.gh.RegisterApp(appBenchAppID, "gitee-mirror")
	if err := os.WriteFile(a.keyFile, key, 0o600); err != nil {
		b.Fatal(err)
	}
	a.gh.AddUser(appDev, appDevToken)
	for i := range cfg.repos {
		name := fmt.Sprintf("svc-%03d", i)
		a.gh.SetRepo(appOwner, name, forgetest.RepoMeta{Description: "service " + strconv.Itoa(i), DefaultBranch: "main"})
		a.repos = append(a.repos, appRepo{name: name})
	}
	a.gh.Grant(appDev, appOwner, "*", forgetest.Write)
	a.gh.AddInstallation(appBenchAppID, appBenchInstall, appOwner, appOwner+"/*")
	a.ge.AddOrg(appGiteeOrg)
	a.ge.AddUser(appGiteeLogin, appGiteeToken)
	a.ge.Grant(appGiteeLogin, appGiteeOrg, "*", forgetest.Write)

	a.work = forgetest.NewWork(b)
	a.baseHead = a.work.Commit("first", map[string]string{"README.md": "# a service\n"})
	for i := range a.repos {
		a.push(i)
		a.repos[i].head = a.baseHead
	}
	for n := range cfg.replicas {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		r := &appReplica{n: n, addr: ln.Addr().String(),
			dataDir: filepath.Join(tmp, fmt.Sprintf("data-%d", n)), logPath: filepath.Join(tmp, fmt.Sprintf("app-%d.log", n))}
		ln.Close()
		r.base = "http://" + r.addr
		a.reps = append(a.reps, r)
	}
	a.base = a.reps[0].base
	b.Cleanup(a.kill)
	return a
}

// backend names the App's database for the figures.
func (a *appBench) backend() string {
	if a.pg != nil {
		return fmt.Sprintf("%d replica(s) on one Postgres database", len(a.reps))
	}
	return "1 App on SQLite"
}

// setup installs the App (installation event), gives the installation its
// Gitee token (admin endpoint), then commits each repository's
// .github/gitee-mirror.yml, announces it with a push webhook, and waits
// until every mirror is created and synced: the mirrors are warm.
func (a *appBench) setup() {
	b := a.b
	b.Helper()
	resp, err := a.gh.SendGitHubEvent(a.base+"/webhooks/github", appHookSecret, "installation", a.gh.InstallationPayload("created", appBenchInstall))
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("installation delivery: %v %v", resp, err)
	}
	// The installation is recorded once the App's forwarder has done the
	// delivery's work, moments after the acknowledgement.
	body := `{"token": "` + appGiteeToken + `"}`
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("%s/admin/installations/%d/gitee-token", a.base, appBenchInstall), strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+appAdminToken)
		req.Header.Set("Content-Type", "application/json")
		tr, err := a.admin.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		msg, _ := io.ReadAll(tr.Body)
		tr.Body.Close()
		if tr.StatusCode == http.StatusOK {
			break
		}
		if tr.StatusCode != http.StatusNotFound || time.Now().After(deadline) {
			b.Fatalf("setting the Gitee token: %d %s", tr.StatusCode, msg)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i := range a.repos {
		cfg := "target: gitee/" + appGiteeOrg + "/" + a.repos[i].name + "\ndirection: push\nprune: true\ncreate-missing: true\n"
		prev := a.repos[i].head
		sha := a.pushCommit(i, "mirror to Gitee", map[string]string{".github/gitee-mirror.yml": cfg})
		payload := a.gh.PushPayload(appOwner, a.repos[i].name, "refs/heads/main", prev, sha, appBenchInstall)
		resp, err := a.gh.SendGitHubEvent(a.reps[i%len(a.reps)].base+"/webhooks/github", appHookSecret, "push", payload)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("push delivery: %v %v", resp, err)
		}
	}
	a.waitMirrored(2 * time.Minute)
	if ms := a.mirrors(); len(ms) != len(a.repos) {
		b.Fatalf("%d mirrors, want %d: %+v", len(ms), len(a.repos), ms)
	}
}

// pushCommit commits files on top of repository i's main and pushes it to
// the GitHub side; it returns the commit.
func (a *appBench) pushCommit(i int, msg string, files map[string]string) string {
	a.b.Helper()
	a.work.Checkout(a.repos[i].head)
	sha := a.work.Commit(msg, files)
	a.push(i)
	a.repos[i].head = sha
	return sha
}

func (a *appBench) push(i int) {
	a.b.Helper()
	if err := a.work.Push(a.gh.GitURL(appOwner, a.repos[i].name), appDev, appDevToken, "HEAD:refs/heads/main"); err != nil {
		a.b.Fatalf("push to %s: %v", a.repos[i].name, err)
	}
}

// packRefs packs every repository's refs on both forges (git pack-refs
// --all), as forgetest.InProcessRefAdvertisement needs them.
func (a *appBench) packRefs() {
	a.b.Helper()
	for _, r := range a.repos {
		for _, dir := range []string{a.gh.RepoPath(appOwner, r.name), a.ge.RepoPath(appGiteeOrg, r.name)} {
			if out, err := exec.Command("git", "-C", dir, "pack-refs", "--all").CombinedOutput(); err != nil {
				a.b.Fatalf("git pack-refs in %s: %v\n%s", dir, err, out)
			}
		}
	}
}

// env is the environment of replica r.
func (a *appBench) env(r *appReplica) []string {
	home := filepath.Join(r.dataDir, "home")
	os.MkdirAll(home, 0o700)
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"GITEE_MIRROR_LISTEN_ADDR=" + r.addr,
		"GITEE_MIRROR_DATA_DIR=" + r.dataDir,
		"GITEE_MIRROR_APP_ID=" + strconv.Itoa(appBenchAppID),
		"GITEE_MIRROR_PRIVATE_KEY_FILE=" + a.keyFile,
		"GITEE_MIRROR_WEBHOOK_SECRET=" + appHookSecret,
		"GITEE_MIRROR_SECRET_KEY=" + appSecretKeyHex,
		"GITEE_MIRROR_ADMIN_TOKEN=" + appAdminToken,
		"GITEE_MIRROR_ALLOW_HTTP=true", // the forges are on loopback
		"GITEE_MIRROR_GITHUB_API_URL=" + a.gh.GitHubAPIURL(),
		"GITEE_MIRROR_GITHUB_URL=" + a.gh.BaseURL(),
		"GITEE_MIRROR_GITEE_API_URL=" + a.ge.GiteeAPIURL(),
		"GITEE_MIRROR_GITEE_URL=" + a.ge.BaseURL(),
		"GITEE_MIRROR_LOG_FORMAT=json",
		"GITEE_MIRROR_LOG_LEVEL=" + cmp.Or(os.Getenv("GM_BENCH_APP_LOG_LEVEL"), "info"),
	}
	if a.pg != nil {
		env = append(env, "GITEE_MIRROR_DATABASE_URL="+a.pg.URLWithoutPassword(), "GITEE_MIRROR_DATABASE_PASSWORD_FILE="+a.pwFile)
	}
	if d := os.Getenv("TMPDIR"); d != "" {
		env = append(env, "TMPDIR="+d)
	}
	if v := a.gomaxprocs(); v != "" {
		env = append(env, "GOMAXPROCS="+v)
	}
	return append(env, a.cfg.env...)
}

// gomaxprocs is each replica's GOMAXPROCS, "" for Go's own choice (the
// machine's CPUs): GM_BENCH_APP_GOMAXPROCS ("0" for Go's choice), else with
// shareCPUs the machine's CPUs shared among the replicas, as each would
// have in a container with that CPU limit (Go reads a cgroup's limit the
// same way). Three replicas on two cores that each schedule on two CPUs
// hand goroutines between six threads and pay a context switch for it.
func (a *appBench) gomaxprocs() string {
	if v, ok := os.LookupEnv("GM_BENCH_APP_GOMAXPROCS"); ok {
		if v == "0" {
			return ""
		}
		return v
	}
	if a.cfg.shareCPUs && len(a.reps) > 1 {
		return strconv.Itoa(max(1, runtime.NumCPU()/len(a.reps)))
	}
	return ""
}

// start starts every replica and waits until each /readyz answers 200.
func (a *appBench) start() {
	b := a.b
	b.Helper()
	for _, r := range a.reps {
		if err := os.MkdirAll(r.dataDir, 0o700); err != nil {
			b.Fatal(err)
		}
		logf, err := os.OpenFile(r.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			b.Fatal(err)
		}
		cmd := exec.Command(a.bin)
		cmd.Env = a.env(r)
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			logf.Close()
			b.Fatalf("starting App replica %d: %v", r.n, err)
		}
		logf.Close()
		r.cmd = cmd
		r.exited = make(chan error, 1)
		go func() { r.exited <- cmd.Wait() }()
	}
	deadline := time.Now().Add(60 * time.Second)
	for _, r := range a.reps {
		for ready := false; !ready; {
			select {
			case err := <-r.exited:
				r.cmd = nil
				b.Fatalf("App replica %d exited while starting: %v\n%s", r.n, err, a.logTail())
			default:
			}
			if resp, err := a.admin.Get(r.base + "/readyz"); err == nil {
				resp.Body.Close()
				ready = resp.StatusCode == http.StatusOK
			}
			if !ready && time.Now().After(deadline) {
				b.Fatalf("App replica %d is not ready after 60 s\n%s", r.n, a.logTail())
			}
			if !ready {
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
}

// stop sends SIGTERM to every replica and waits for each to exit cleanly.
func (a *appBench) stop() {
	a.b.Helper()
	for _, r := range a.reps {
		if r.cmd != nil {
			r.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	for _, r := range a.reps {
		if r.cmd == nil {
			continue
		}
		select {
		case err := <-r.exited:
			r.cmd = nil
			if err != nil {
				a.b.Fatalf("App replica %d did not stop cleanly: %v\n%s", r.n, err, a.logTail())
			}
		case <-time.After(60 * time.Second):
			a.kill()
			a.b.Fatalf("App replica %d did not stop within 60 s of SIGTERM\n%s", r.n, a.logTail())
		}
	}
}

// kill ends the App processes that still run (cleanup).
func (a *appBench) kill() {
	for _, r := range a.reps {
		if r.cmd == nil {
			continue
		}
		r.cmd.Process.Kill()
		<-r.exited
		r.cmd = nil
	}
}

func (a *appBench) logTail() string {
	var out strings.Builder
	for _, r := range a.reps {
		data, _ := os.ReadFile(r.logPath)
		fmt.Fprintf(&out, "--- replica %d ---\n%s\n", r.n, tail(string(data), 4000/len(a.reps)))
	}
	return out.String()
}

// memory is a replica's VmHWM and VmRSS in KiB: the high-water mark of its
// own address space (exec starts a new one, so unlike ru_maxrss it owes
// nothing to the benchmark process) and what it holds now.
func (r *appReplica) memory() (peak, now int64) {
	if r.cmd == nil {
		return 0, 0
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", r.cmd.Process.Pid))
	if err != nil {
		return 0, 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		k, v, _ := strings.Cut(line, ":")
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmHWM":
			peak = n
		case "VmRSS":
			now = n
		}
	}
	return peak, now
}

// memoryLine is each replica's peak and current RSS.
func (a *appBench) memoryLine() string {
	var parts []string
	for _, r := range a.reps {
		p, n := r.memory()
		parts = append(parts, fmt.Sprintf("replica %d: peak %s, now %s", r.n, mib(p), mib(n)))
	}
	return strings.Join(parts, "; ")
}

// handlerTimes reads, from the App's request logs, how long its handler
// took for each delivery of the load (sorted). The App logs webhook
// requests at debug level only: empty unless GM_BENCH_APP_LOG_LEVEL=debug.
func (a *appBench) handlerTimes(results []intakeResult) []time.Duration {
	ids := make(map[string]bool, len(results))
	for _, r := range results {
		ids[r.id] = true
	}
	var out []time.Duration
	for _, rep := range a.reps {
		f, err := os.Open(rep.logPath)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			if !bytes.Contains(line, []byte(`"msg":"request"`)) {
				continue
			}
			var rec struct {
				Path     string `json:"path"`
				Duration int64  `json:"duration"`
				Delivery string `json:"delivery_id"`
			}
			if json.Unmarshal(line, &rec) == nil && rec.Path == "/webhooks/github" && ids[rec.Delivery] {
				out = append(out, time.Duration(rec.Duration))
			}
		}
		f.Close()
	}
	slices.Sort(out)
	return out
}

// cpuSample is a reading of CPU counters.
type cpuSample struct {
	at          time.Time
	busy, total int64 // machine, from /proc/stat, in ticks
	app         time.Duration
	pg          time.Duration // the Postgres server and its backends
	self, kids  time.Duration
}

// cpuUse is CPU used between two samples, in cores (busy: a fraction).
type cpuUse struct {
	wall                      time.Duration
	busy, app, pg, self, kids float64
}

// clockTicks is USER_HZ, 100 on Linux.
const clockTicks = 100

// procStat is a process's parent, and its CPU time (with that of the
// children it waited for when withKids).
func procStat(pid int, withKids bool) (ppid int, comm string, cpu time.Duration, ok bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, "", 0, false
	}
	open, closing := bytes.IndexByte(data, '('), bytes.LastIndexByte(data, ')')
	if open < 0 || closing < open {
		return 0, "", 0, false
	}
	f := strings.Fields(string(data[closing+1:]))
	if len(f) < 15 {
		return 0, "", 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	fields := f[11:13] // utime stime
	if withKids {
		fields = f[11:15] // + cutime cstime
	}
	var ticks int64
	for _, v := range fields {
		n, _ := strconv.ParseInt(v, 10, 64)
		ticks += n
	}
	return ppid, string(data[open+1 : closing]), time.Duration(ticks) * time.Second / clockTicks, true
}

// postgresCPU is the CPU time of the Postgres cluster this process started
// (internal/pgtest): the postmaster with the children it reaped, plus its
// live children (backends, background workers).
func postgresCPU() time.Duration {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	self := os.Getpid()
	type proc struct {
		ppid int
		comm string
		cpu  time.Duration
	}
	procs := map[int]proc{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, comm, cpu, ok := procStat(pid, false); ok {
			procs[pid] = proc{ppid, comm, cpu}
		}
	}
	var total time.Duration
	for pid, p := range procs {
		if p.ppid != self || p.comm != "postgres" {
			continue
		}
		if _, _, cpu, ok := procStat(pid, true); ok {
			total += cpu
		}
		for _, c := range procs {
			if c.ppid == pid {
				total += c.cpu
			}
		}
	}
	return total
}

func (a *appBench) cpuNow() cpuSample {
	s := cpuSample{at: time.Now()}
	if data, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(data), "\n")
		for i, f := range strings.Fields(line)[1:] {
			n, _ := strconv.ParseInt(f, 10, 64)
			s.total += n
			if i != 3 && i != 4 { // idle, iowait
				s.busy += n
			}
		}
	}
	for _, r := range a.reps {
		if r.cmd == nil {
			continue
		}
		if _, _, cpu, ok := procStat(r.cmd.Process.Pid, true); ok {
			s.app += cpu
		}
	}
	if a.pg != nil {
		s.pg = postgresCPU()
	}
	var self, kids syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids)
	s.self = time.Duration(self.Utime.Nano() + self.Stime.Nano())
	s.kids = time.Duration(kids.Utime.Nano() + kids.Stime.Nano())
	return s
}

func (s cpuSample) since(t cpuSample) cpuUse {
	u := cpuUse{wall: s.at.Sub(t.at)}
	if s.total > t.total {
		u.busy = float64(s.busy-t.busy) / float64(s.total-t.total)
	}
	w := u.wall.Seconds()
	u.app = (s.app - t.app).Seconds() / w
	u.pg = (s.pg - t.pg).Seconds() / w
	u.self = (s.self - t.self).Seconds() / w
	u.kids = (s.kids - t.kids).Seconds() / w
	return u
}

// line says where the CPU went, in cores.
func (u cpuUse) line(cores int) string {
	other := u.busy*float64(cores) - u.app - u.pg - u.self - u.kids
	return fmt.Sprintf("%.1f s, %d cores: machine %.0f%% busy = the App %.2f cores + Postgres %.2f + this process (load generator, both forges) %.2f + its finished children (the forges' git processes) %.2f + anything else %.2f",
		u.wall.Seconds(), cores, 100*u.busy, u.app, u.pg, u.self, u.kids, max(other, 0))
}

// delivered is the App's answer to one delivery.
type delivered struct {
	status  int
	verdict string
	wrote   time.Time // when the request was written on its connection (httptrace)
	at      time.Time // when the answer was read
	err     error
}

// deliverTo POSTs a webhook delivery as GitHub sends one to an App
// (headers as forgetest.SendGitHubEvent sets them), on a new connection,
// to replica n (modulo the replicas).
func (a *appBench) deliverTo(n int, event, id string, body []byte) delivered {
	req, err := http.NewRequest(http.MethodPost, a.reps[n%len(a.reps)].base+"/webhooks/github", bytes.NewReader(body))
	if err != nil {
		return delivered{err: err}
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "GitHub-Hookshot/bench")
	h.Set("Accept", "*/*")
	h.Set("X-GitHub-Event", event)
	h.Set("X-GitHub-Delivery", id)
	h.Set("X-GitHub-Hook-ID", "1")
	h.Set("X-GitHub-Hook-Installation-Target-Type", "integration")
	h.Set("X-GitHub-Hook-Installation-Target-ID", strconv.Itoa(appBenchAppID))
	h.Set("X-Hub-Signature-256", forgetest.SignGitHub(appHookSecret, body))
	m := hmac.New(sha1.New, []byte(appHookSecret))
	m.Write(body)
	h.Set("X-Hub-Signature", "sha1="+hex.EncodeToString(m.Sum(nil)))
	var wrote time.Time
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { wrote = time.Now() },
	}))
	resp, err := a.client.Do(req)
	if err != nil {
		return delivered{at: time.Now(), err: err}
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := delivered{status: resp.StatusCode, wrote: wrote, at: time.Now(), err: err}
	var st struct{ Status string }
	if json.Unmarshal(data, &st) == nil {
		d.verdict = st.Status
	}
	return d
}

// newDeliveryID is a random UUID, the form of X-GitHub-Delivery.
func newDeliveryID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// mirrorStatus is a mirror as GET /admin/mirrors shows it.
type mirrorStatus struct {
	ID         int64     `json:"id"`
	GitHub     string    `json:"github"`
	Gitee      string    `json:"gitee"`
	Status     string    `json:"status"`
	LastError  string    `json:"last_error"`
	LastSyncAt time.Time `json:"last_sync_at"`
}

func (a *appBench) mirrors() []mirrorStatus {
	a.b.Helper()
	req, _ := http.NewRequest(http.MethodGet, a.base+"/admin/mirrors", nil)
	req.Header.Set("Authorization", "Bearer "+appAdminToken)
	resp, err := a.admin.Do(req)
	if err != nil {
		a.b.Fatalf("GET /admin/mirrors: %v", err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var ms []mirrorStatus
	if err := json.Unmarshal(data, &ms); err != nil {
		// The list may be wrapped in an object.
		var wrapped struct{ Mirrors []mirrorStatus }
		if err2 := json.Unmarshal(data, &wrapped); err2 != nil {
			a.b.Fatalf("GET /admin/mirrors: %d %s: %v", resp.StatusCode, data, err)
		}
		ms = wrapped.Mirrors
	}
	return ms
}

// waitMirrored waits until every repository's main on the Gitee side is
// the commit last pushed to the GitHub side.
func (a *appBench) waitMirrored(limit time.Duration) {
	a.b.Helper()
	for i := range a.repos {
		if got, ok := a.pollGiteeRef(a.repos[i].name, "refs/heads/main", a.repos[i].head, 20*time.Millisecond, limit); !ok {
			a.b.Fatalf("%s: Gitee side's main is %q, not %s, after %s\nmirrors: %+v\n%s",
				a.repos[i].name, got, a.repos[i].head, limit, a.mirrors(), a.logTail())
		}
	}
}

// waitIdle waits until no mirror is syncing and every one is in sync.
func (a *appBench) waitIdle(limit time.Duration) {
	a.b.Helper()
	deadline := time.Now().Add(limit)
	for {
		ms := a.mirrors()
		idle := len(ms) == len(a.repos)
		for _, m := range ms {
			idle = idle && m.Status == string(store.StatusInSync)
		}
		if idle {
			return
		}
		if time.Now().After(deadline) {
			a.b.Fatalf("mirrors not idle after %s: %+v", limit, ms)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// settle waits, at most limit, until the machine has been quiet (at most
// 15 % busy) for two half seconds in a row, and says how long that took
// and how busy the last half second was. The App's start (each replica opening its
// connections, River electing a leader, the reconcile on start) takes the
// cores for a few seconds; a load sent into that measures the start, not
// the intake.
func (a *appBench) settle(limit time.Duration) string {
	a.b.Helper()
	begin := time.Now()
	prev := a.cpuNow()
	quiet := 0
	for {
		time.Sleep(500 * time.Millisecond)
		cur := a.cpuNow()
		busy := 0.0
		if d := cur.total - prev.total; d > 0 {
			busy = float64(cur.busy-prev.busy) / float64(d)
		}
		prev = cur
		if busy <= 0.15 {
			quiet++
		} else {
			quiet = 0
		}
		if quiet >= 2 || time.Since(begin) >= limit {
			return fmt.Sprintf("machine quiet after %.1f s (%.0f%% busy over the last 0.5 s)", time.Since(begin).Seconds(), busy*100)
		}
	}
}

// waitQuiet waits until every mirror is in sync with a sync finished
// after the last delivery sent for it, and then for a second more without
// a mirror syncing.
func (a *appBench) waitQuiet(lastSent []time.Time, limit time.Duration) {
	a.b.Helper()
	deadline := time.Now().Add(limit)
	byName := map[string]int{}
	for i, r := range a.repos {
		byName[appOwner+"/"+r.name] = i
	}
	quietSince := time.Time{}
	for {
		ms := a.mirrors()
		quiet := len(ms) == len(a.repos)
		for _, m := range ms {
			i, ok := byName[m.GitHub]
			quiet = quiet && ok && m.Status == string(store.StatusInSync) && m.LastSyncAt.After(lastSent[i])
		}
		switch {
		case !quiet:
			quietSince = time.Time{}
		case quietSince.IsZero():
			quietSince = time.Now()
		case time.Since(quietSince) > time.Second:
			return
		}
		if time.Now().After(deadline) {
			a.b.Logf("mirrors still busy after %s: %+v", limit, ms)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitSyncRecorded waits until the mirror (the only one) has a finished
// sync after t and is not syncing.
func (a *appBench) waitSyncRecorded(t time.Time, limit time.Duration) {
	a.b.Helper()
	deadline := time.Now().Add(limit)
	for {
		ms := a.mirrors()
		if len(ms) == 1 && ms[0].Status == string(store.StatusInSync) && ms[0].LastSyncAt.After(t) {
			return
		}
		if time.Now().After(deadline) {
			a.b.Fatalf("no sync recorded after the push: %+v", ms)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pollGiteeRef reads ref of acme/name on the Gitee side every `every`
// until it is want; it returns the last value read.
func (a *appBench) pollGiteeRef(name, ref, want string, every, limit time.Duration) (string, bool) {
	dir := a.ge.RepoPath(appGiteeOrg, name)
	deadline := time.Now().Add(limit)
	for {
		got := readRef(dir, ref)
		if got == want {
			return got, true
		}
		if time.Now().After(deadline) {
			return got, false
		}
		time.Sleep(every)
	}
}

// readRef reads a ref of a bare repository straight from its files (loose,
// then packed-refs): cheaper than a git process every few milliseconds.
// "" when there is no such ref (or repository).
func readRef(dir, ref string) string {
	if data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(ref))); err == nil {
		return strings.TrimSpace(string(data))
	}
	data, err := os.ReadFile(filepath.Join(dir, "packed-refs"))
	if err != nil {
		return ""
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if oid, name, ok := strings.Cut(line, " "); ok && name == ref {
			return oid
		}
	}
	return ""
}
