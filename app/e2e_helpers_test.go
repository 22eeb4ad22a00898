package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/secret"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/gitee-mirror/gitee-mirror/internal/store/sqlite"
)

// Names and canary secrets of the end-to-end tests. One forge plays GitHub
// (octo/*, where the App is installed) and Gitee (organisation acme, whose
// bot acme-bot holds the Gitee token).
const (
	e2eAppID        = 4242
	e2eInstallation = 77
	e2eOwner        = "octo"
	e2eGiteeOrg     = "acme"
	e2eGiteeLogin   = "acme-bot"
	e2eGiteeToken   = "gitee-pat-CANARY-5f0c2e9a7d4b1836"
	e2eWebhookKey   = "webhook-secret-CANARY-9b3e7a1c"
	e2eAdminToken   = "admin-token-CANARY-0d8f6b2e4a"
	e2eDevLogin     = "octo-dev"
	e2eDevToken     = "dev-token-0123456789"

	e2ePollEvery   = 25 * time.Millisecond
	e2ePollTimeout = 30 * time.Second
)

// e2e is the App run by run() on a data dir of its own, against a forge.
type e2e struct {
	t       *testing.T
	f       *forgetest.Forge
	dir     string // GITEE_MIRROR_DATA_DIR, kept across restarts
	vars    map[string]string
	keyPEM  []byte
	logs    *syncBuffer // every run's logs
	answers *syncBuffer // every response the App gave the test
	secrets []string    // canaries besides the minted tokens

	base string // the running App's URL
	stop func() error

	db    *sqlite.Store // the test's own handle on the App's database
	inbox *sql.DB       // and on its webhook inbox
	work  map[string]*forgetest.Work

	proc *appProc // the App as a process of its own (newE2EProcess), else nil: run() in the test
}

// newE2E sets up the forge and starts the App (run, in this process).
func newE2E(t *testing.T, extra map[string]string) *e2e {
	t.Helper()
	return newE2EWith(t, extra, "")
}

// newE2EWith is newE2E; with bin, the App runs as that binary, a process
// of its own that the test can kill (proc_test.go).
func newE2EWith(t *testing.T, extra map[string]string, bin string, opts ...forgetest.Option) *e2e {
	t.Helper()
	f := forgetest.New(t, opts...)
	e := &e2e{t: t, f: f, dir: t.TempDir(), logs: &syncBuffer{}, answers: &syncBuffer{}, work: map[string]*forgetest.Work{}}
	e.keyPEM = f.RegisterApp(e2eAppID, "gitee-mirror")
	f.AddInstallation(e2eAppID, e2eInstallation, e2eOwner, e2eOwner+"/*")
	f.AddUser(e2eDevLogin, e2eDevToken)
	f.Grant(e2eDevLogin, e2eOwner, "*", forgetest.Write)
	f.AddOrg(e2eGiteeOrg)
	f.AddUser(e2eGiteeLogin, e2eGiteeToken)
	f.Grant(e2eGiteeLogin, e2eGiteeOrg, "*", forgetest.Write)

	secretKey := make([]byte, secret.KeySize)
	if _, err := rand.Read(secretKey); err != nil {
		t.Fatal(err)
	}
	e.vars = map[string]string{
		"GITEE_MIRROR_DATA_DIR":           e.dir,
		"GITEE_MIRROR_LISTEN_ADDR":        "127.0.0.1:0",
		"GITEE_MIRROR_APP_ID":             fmt.Sprint(e2eAppID),
		"GITEE_MIRROR_PRIVATE_KEY":        string(e.keyPEM),
		"GITEE_MIRROR_WEBHOOK_SECRET":     e2eWebhookKey,
		"GITEE_MIRROR_SECRET_KEY":         hex.EncodeToString(secretKey),
		"GITEE_MIRROR_ADMIN_TOKEN":        e2eAdminToken,
		"GITEE_MIRROR_ALLOW_HTTP":         "true", // the forge is on loopback
		"GITEE_MIRROR_GITHUB_API_URL":     f.GitHubAPIURL(),
		"GITEE_MIRROR_GITHUB_URL":         f.BaseURL(),
		"GITEE_MIRROR_GITEE_API_URL":      f.GiteeAPIURL(),
		"GITEE_MIRROR_GITEE_URL":          f.BaseURL(),
		"GITEE_MIRROR_RECONCILE_INTERVAL": "1h",
		"GITEE_MIRROR_SHUTDOWN_TIMEOUT":   "5s",
		"GITEE_MIRROR_LOG_LEVEL":          "debug",
		"GITEE_MIRROR_LOG_FORMAT":         "json",
	}
	for k, v := range extra {
		e.vars[k] = v
	}
	if bin != "" {
		e.proc = newProc(t, "app", bin, e.vars)
		e.logs = e.proc.logs
	}
	e.secrets = []string{e2eGiteeToken, e2eWebhookKey, e2eAdminToken, e.vars["GITEE_MIRROR_SECRET_KEY"]}
	// Every full line of the key's PEM body.
	for _, line := range strings.Split(string(e.keyPEM), "\n") {
		if len(line) == 64 {
			e.secrets = append(e.secrets, line)
		}
	}
	e.start()
	var err error
	e.db, err = sqlite.Open(context.Background(), filepath.Join(e.dir, "gitee-mirror.db"), e2eBox(t, secretKey))
	if err != nil {
		t.Fatalf("opening the App's database: %v", err)
	}
	t.Cleanup(func() { _ = e.db.Close() })
	// The webhook inbox, read beside the App as the database is.
	e.inbox, err = sql.Open("sqlite", sqlite.InboxPath(filepath.Join(e.dir, "gitee-mirror.db")))
	if err != nil {
		t.Fatalf("opening the App's webhook inbox: %v", err)
	}
	t.Cleanup(func() { _ = e.inbox.Close() })
	// The reconcile that runs on start: the tests count jobs and runs, and
	// a reconcile arriving in the middle would sync on its own.
	e.reconciled(1)
	return e
}

// reconciled waits until n reconciles (one per start) have run.
func (e *e2e) reconciled(n int) {
	e.t.Helper()
	began := time.Now()
	e.waitFor("the reconcile on start has run", func() bool {
		var got int
		err := e.db.DB().QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'gitee_mirror.reconcile' AND state = 'completed'`).Scan(&got)
		return err == nil && got >= n
	})
	e.t.Logf("reconcile on start ran after %s", time.Since(began))
}

func e2eBox(t *testing.T, key []byte) *secret.Box {
	t.Helper()
	b, err := secret.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// start runs the App until stop; it fails the test if run returns early.
func (e *e2e) start() {
	e.t.Helper()
	if e.proc != nil {
		e.proc.start()
		e.base, e.stop = e.proc.base, e.proc.term
		return
	}
	addr := make(chan net.Addr, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, env2(e.vars, e.logs, func(a net.Addr) { addr <- a })) }()
	select {
	case a := <-addr:
		e.base = "http://" + a.String()
	case err := <-done:
		cancel()
		e.t.Fatalf("run returned before listening: %v\n%s", err, e.logs)
	}
	var once sync.Once
	var runErr error
	e.stop = func() error {
		once.Do(func() {
			cancel()
			runErr = <-done
		})
		return runErr
	}
	e.t.Cleanup(func() { _ = e.stop() })
}

// record keeps what the App answered, for the canary check.
func (e *e2e) record(resp *http.Response, body []byte) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n", resp.Status)
	_ = resp.Header.Write(&b)
	b.Write(body)
	b.WriteString("\n")
	_, _ = e.answers.Write(b.Bytes())
}

// github sends a GitHub delivery signed with the App's webhook secret
// (unless opts override the signature) and returns the status and body.
func (e *e2e) github(event string, payload any, opts ...forgetest.DeliveryOption) (int, string) {
	e.t.Helper()
	resp, err := e.f.SendGitHubEvent(e.base+"/webhooks/github", e2eWebhookKey, event, payload, opts...)
	if err != nil {
		e.t.Fatalf("delivering %s: %v", event, err)
	}
	body, _ := io.ReadAll(resp.Body)
	e.record(resp, body)
	return resp.StatusCode, string(body)
}

// get GETs one of the App's pages without credentials.
func (e *e2e) get(path string) (int, string) {
	e.t.Helper()
	resp, err := http.Get(e.base + path)
	if err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	e.record(resp, body)
	return resp.StatusCode, string(body)
}

// admin calls an admin endpoint with the admin token.
func (e *e2e) admin(method, path string, body any) (int, string) {
	e.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.base+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e2eAdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	e.record(resp, got)
	return resp.StatusCode, string(got)
}

// install delivers the installation event and connects the Gitee token
// through the admin endpoint, as an administrator does.
func (e *e2e) install() {
	e.t.Helper()
	if code, body := e.github("installation", e.f.InstallationPayload("created", e2eInstallation)); code != http.StatusOK {
		e.t.Fatalf("installation delivery: %d %s", code, body)
	}
	e.waitFor("the installation is recorded", func() bool {
		_, err := e.db.GetInstallation(context.Background(), e2eInstallation)
		return err == nil
	})
	code, body := e.admin(http.MethodPut, fmt.Sprintf("/admin/installations/%d/gitee-token", e2eInstallation),
		map[string]string{"token": e2eGiteeToken})
	if code != http.StatusOK || !strings.Contains(body, e2eGiteeLogin) {
		e.t.Fatalf("setting the Gitee token: %d %s", code, body)
	}
}

// waitFor polls cond until it holds, failing the test after e2ePollTimeout.
func (e *e2e) waitFor(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(e2ePollTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting until %s\nlogs:\n%s", what, e.logTail())
		}
		time.Sleep(e2ePollEvery)
	}
}

// logTail is the end of the logs, for failure messages.
func (e *e2e) logTail() string {
	if e.proc != nil {
		return e.proc.logTail()
	}
	s := e.logs.String()
	if len(s) > 8000 {
		s = "…" + s[len(s)-8000:]
	}
	return s
}

// repoWork is the test's clone of the GitHub repository owner/name.
func (e *e2e) repoWork(name string) *forgetest.Work {
	w := e.work[name]
	if w == nil {
		w = forgetest.NewWork(e.t)
		e.work[name] = w
	}
	return w
}

// commit commits files on main of GitHub's octo/<name>, pushes it as a
// developer and returns the commit and the push event's payload (not yet
// delivered).
func (e *e2e) commit(name string, files map[string]string) (string, map[string]any) {
	e.t.Helper()
	w := e.repoWork(name)
	before := e.f.Refs(e2eOwner, name)["refs/heads/main"]
	sha := w.Commit("change "+name, files)
	if err := w.Push(e.f.GitURL(e2eOwner, name), e2eDevLogin, e2eDevToken, "HEAD:refs/heads/main"); err != nil {
		e.t.Fatalf("push to %s/%s: %v", e2eOwner, name, err)
	}
	return sha, e.f.PushPayload(e2eOwner, name, "refs/heads/main", before, sha, e2eInstallation)
}

// push commits and pushes, and delivers the push event.
func (e *e2e) push(name string, files map[string]string, opts ...forgetest.DeliveryOption) string {
	e.t.Helper()
	sha, payload := e.commit(name, files)
	if code, body := e.github("push", payload, opts...); code != http.StatusOK {
		e.t.Fatalf("push delivery: %d %s", code, body)
	}
	return sha
}

// mirrorTo waits for the mirror of octo/<name> to acme/<target>.
func (e *e2e) mirrorTo(name, target string) *store.Mirror {
	e.t.Helper()
	var found *store.Mirror
	e.waitFor("a mirror of "+name+" to "+target+" exists", func() bool {
		found = e.findMirror(name, target)
		return found != nil
	})
	return found
}

// findMirror returns the mirror of octo/<name> to acme/<target>, or nil.
func (e *e2e) findMirror(name, target string) *store.Mirror {
	e.t.Helper()
	ms, err := e.db.ListMirrors(context.Background(), store.MirrorFilter{})
	if err != nil {
		e.t.Fatalf("ListMirrors: %v", err)
	}
	for _, m := range ms {
		if m.A.Name == name && m.B.Owner == e2eGiteeOrg && m.B.Name == target {
			return m
		}
	}
	return nil
}

// mirror reads a mirror afresh.
func (e *e2e) mirror(id int64) *store.Mirror {
	e.t.Helper()
	m, err := e.db.GetMirror(context.Background(), id)
	if err != nil {
		e.t.Fatalf("GetMirror %d: %v", id, err)
	}
	return m
}

// runs lists a mirror's sync runs, oldest first.
func (e *e2e) runs(id int64) []*store.SyncRun {
	e.t.Helper()
	rs, err := e.db.ListRuns(context.Background(), id, 0)
	if err != nil {
		e.t.Fatalf("ListRuns: %v", err)
	}
	for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
		rs[i], rs[j] = rs[j], rs[i]
	}
	return rs
}

// finishedRuns counts a mirror's finished runs.
func (e *e2e) finishedRuns(id int64) []*store.SyncRun {
	var out []*store.SyncRun
	for _, r := range e.runs(id) {
		if r.Outcome != "running" {
			out = append(out, r)
		}
	}
	return out
}

// sameRefs reports whether two repositories of the forge have the same
// refs (and at least one).
func (e *e2e) sameRefs(owner1, name1, owner2, name2 string) bool {
	if _, ok := e.f.RepoMeta(owner2, name2); !ok {
		return false
	}
	a, b := e.f.Refs(owner1, name1), e.f.Refs(owner2, name2)
	if len(a) == 0 || len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// jobs counts River's jobs in the given states (all when none).
func (e *e2e) jobs(states ...string) int {
	e.t.Helper()
	q := `SELECT count(*) FROM river_job`
	args := []any{}
	if len(states) > 0 {
		q += ` WHERE state IN (?` + strings.Repeat(`, ?`, len(states)-1) + `)`
		for _, s := range states {
			args = append(args, s)
		}
	}
	var n int
	if err := e.db.DB().QueryRow(q, args...).Scan(&n); err != nil {
		e.t.Fatalf("counting jobs: %v", err)
	}
	return n
}

// idle waits until no job is waiting or running.
func (e *e2e) idle() {
	e.t.Helper()
	e.waitFor("the queue is idle", func() bool {
		// Deliveries are forwarded to the queue before they are marked
		// handled: none waiting and no job means the work is done.
		var waiting int
		if err := e.inbox.QueryRow(`SELECT count(*) FROM deliveries WHERE handled_at = 0`).Scan(&waiting); err != nil {
			e.t.Fatalf("counting waiting deliveries: %v", err)
		}
		return waiting == 0 && e.jobs("available", "running", "retryable", "scheduled", "pending") == 0
	})
}

// checkCanaries looks for every secret in the logs, the App's answers and
// every file of the data dir (the SQLite database with its -wal and -shm
// files, the cache), first while the App runs, then after it stopped.
func (e *e2e) checkCanaries() {
	e.t.Helper()
	canaries := append([]string(nil), e.secrets...)
	minted := e.f.MintedTokens()
	if len(minted) == 0 {
		e.t.Errorf("no installation token was minted: the canary check is vacuous")
	}
	for _, m := range minted {
		canaries = append(canaries, m.Token)
	}
	// The pages people and scrapers read.
	for _, path := range []string{"/", "/healthz", "/readyz", "/metrics"} {
		e.get(path)
	}
	e.admin(http.MethodGet, "/admin/mirrors", nil)
	e.scanDir(canaries, "while running")
	_ = e.db.Close()
	if err := e.stop(); err != nil {
		e.t.Errorf("run: %v", err)
	}
	e.scanDir(canaries, "after stopping")
	for _, c := range canaries {
		if strings.Contains(e.logs.String(), c) {
			e.t.Errorf("the logs contain the secret %.12s…", c)
		}
		if strings.Contains(e.answers.String(), c) {
			e.t.Errorf("an HTTP response contains the secret %.12s…", c)
		}
	}
}

func (e *e2e) scanDir(canaries []string, when string) {
	e.t.Helper()
	files := map[string]bool{}
	err := filepath.WalkDir(e.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) { // a -wal file checkpointed away
				return nil
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		files[filepath.Base(path)] = true
		for _, c := range canaries {
			if bytes.Contains(b, []byte(c)) {
				e.t.Errorf("%s: %s contains the secret %.12s…", when, path, c)
			}
		}
		return nil
	})
	if err != nil {
		e.t.Errorf("scanning %s: %v", e.dir, err)
	}
	if !files["gitee-mirror.db"] {
		e.t.Errorf("%s: no database in the data dir: %v", when, files)
	}
	if when == "while running" && !files["gitee-mirror.db-wal"] {
		e.t.Errorf("%s: no -wal file in the data dir: %v", when, files)
	}
}

// deliveries counts the deliveries in the webhook inbox.
func (e *e2e) deliveries() int {
	e.t.Helper()
	var n int
	if err := e.inbox.QueryRow(`SELECT count(*) FROM deliveries`).Scan(&n); err != nil {
		e.t.Fatalf("counting deliveries: %v", err)
	}
	return n
}

func e2eRandomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
