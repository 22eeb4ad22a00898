package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/pgtest"
	"github.com/gitee-mirror/gitee-mirror/internal/secret"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/gitee-mirror/gitee-mirror/internal/store/postgres"
)

// replicaWait bounds each wait of the replicas test.
const replicaWait = 3 * time.Minute

// replicaReconcile is the replicas' reconcile interval (the shortest
// allowed), so that the test sees several rounds.
const replicaReconcile = time.Minute

// cluster is several App processes on one Postgres database behind no load
// balancer: the test spreads deliveries over them itself.
type cluster struct {
	t     *testing.T
	f     *forgetest.Forge
	st    *postgres.Store // the test's own handle on the database
	procs []*appProc
	next  int // round robin over live replicas
	work  map[string]*forgetest.Work
	began time.Time
}

func newCluster(t *testing.T, n int) *cluster {
	t.Helper()
	db := pgtest.New(t)
	bin := buildApp(t, t.TempDir())
	f := forgetest.New(t, forgetest.DetectOverlappingPushes())
	keyPEM := f.RegisterApp(e2eAppID, "gitee-mirror")
	f.AddInstallation(e2eAppID, e2eInstallation, e2eOwner, e2eOwner+"/*")
	f.AddUser(e2eDevLogin, e2eDevToken)
	f.Grant(e2eDevLogin, e2eOwner, "*", forgetest.Write)
	f.AddOrg(e2eGiteeOrg)
	f.AddUser(e2eGiteeLogin, e2eGiteeToken)
	f.Grant(e2eGiteeLogin, e2eGiteeOrg, "*", forgetest.Write)
	key := make([]byte, secret.KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	box, err := secret.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, f: f, work: map[string]*forgetest.Work{}, began: time.Now()}
	for i := range n {
		vars := map[string]string{
			"GITEE_MIRROR_DATABASE_URL":       db.URLWithoutPassword(),
			"GITEE_MIRROR_DATABASE_PASSWORD":  db.Password(),
			"GITEE_MIRROR_DATA_DIR":           t.TempDir(),
			"GITEE_MIRROR_APP_ID":             strconv.Itoa(e2eAppID),
			"GITEE_MIRROR_PRIVATE_KEY":        string(keyPEM),
			"GITEE_MIRROR_WEBHOOK_SECRET":     e2eWebhookKey,
			"GITEE_MIRROR_SECRET_KEY":         hex.EncodeToString(key),
			"GITEE_MIRROR_ADMIN_TOKEN":        e2eAdminToken,
			"GITEE_MIRROR_ALLOW_HTTP":         "true", // the forge is on loopback
			"GITEE_MIRROR_GITHUB_API_URL":     f.GitHubAPIURL(),
			"GITEE_MIRROR_GITHUB_URL":         f.BaseURL(),
			"GITEE_MIRROR_GITEE_API_URL":      f.GiteeAPIURL(),
			"GITEE_MIRROR_GITEE_URL":          f.BaseURL(),
			"GITEE_MIRROR_RECONCILE_INTERVAL": replicaReconcile.String(),
			"GITEE_MIRROR_SHUTDOWN_TIMEOUT":   "1m",
			"GITEE_MIRROR_LOG_FORMAT":         "json",
		}
		p := newProc(t, fmt.Sprintf("replica %d", i), bin, vars)
		p.start()
		c.procs = append(c.procs, p)
	}
	c.st, err = postgres.Open(context.Background(), db.URL(), box)
	if err != nil {
		t.Fatalf("opening the database: %v", err)
	}
	t.Cleanup(func() { _ = c.st.Close() })
	return c
}

// replica returns the next live replica, round robin.
func (c *cluster) replica() *appProc {
	for range c.procs {
		p := c.procs[c.next%len(c.procs)]
		c.next++
		if p.running() {
			return p
		}
	}
	c.t.Fatal("no replica runs")
	return nil
}

// deliver sends a signed GitHub delivery to the next live replica.
func (c *cluster) deliver(event string, payload any) {
	c.t.Helper()
	p := c.replica()
	resp, err := c.f.SendGitHubEvent(p.base+"/webhooks/github", e2eWebhookKey, event, payload)
	if err != nil {
		c.t.Fatalf("delivering %s to %s: %v", event, p.name, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("%s delivery to %s: %d %s", event, p.name, resp.StatusCode, body)
	}
}

// push commits files on main of octo/<name>, pushes it as a developer and
// delivers the push event to the next live replica; it returns the commit.
func (c *cluster) push(name string, files map[string]string) string {
	c.t.Helper()
	w := c.work[name]
	if w == nil {
		w = forgetest.NewWork(c.t)
		c.work[name] = w
	}
	before := c.f.Refs(e2eOwner, name)["refs/heads/main"]
	sha := w.Commit("change "+name, files)
	if err := w.Push(c.f.GitURL(e2eOwner, name), e2eDevLogin, e2eDevToken, "HEAD:refs/heads/main"); err != nil {
		c.t.Fatalf("push to %s/%s: %v", e2eOwner, name, err)
	}
	c.deliver("push", c.f.PushPayload(e2eOwner, name, "refs/heads/main", before, sha, e2eInstallation))
	return sha
}

// waitFor polls cond until it holds, failing after replicaWait.
func (c *cluster) waitFor(what string, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(replicaWait)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			c.t.Fatalf("timed out waiting until %s\n%s", what, c.logTails())
		}
		<-tick.C
	}
}

func (c *cluster) logTails() string {
	var b strings.Builder
	for _, p := range c.procs {
		fmt.Fprintf(&b, "--- %s:\n%s\n", p.name, p.logTail())
	}
	return b.String()
}

// mirrored reports whether acme/<name> has octo/<name>'s refs, sha among
// them.
func (c *cluster) mirrored(name, sha string) bool {
	if _, ok := c.f.RepoMeta(e2eGiteeOrg, name); !ok {
		return false
	}
	a, b := c.f.Refs(e2eOwner, name), c.f.Refs(e2eGiteeOrg, name)
	if len(a) == 0 || len(a) != len(b) || b["refs/heads/main"] != sha {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// mirrorOf returns the mirror of octo/<name>.
func (c *cluster) mirrorOf(name string) *store.Mirror {
	c.t.Helper()
	ms, err := c.st.ListMirrors(context.Background(), store.MirrorFilter{})
	if err != nil {
		c.t.Fatal(err)
	}
	for _, m := range ms {
		if m.A.Name == name {
			return m
		}
	}
	c.t.Fatalf("no mirror of %s", name)
	return nil
}

// syncing returns the replica whose sync of mirror id holds its lease,
// from the process id in the lease's holder ("host:pid:random").
func (c *cluster) syncing(id int64) *appProc {
	c.t.Helper()
	l, err := c.st.GetLease(context.Background(), "mirror:"+strconv.FormatInt(id, 10))
	if err != nil {
		c.t.Fatalf("the lease of mirror %d: %v", id, err)
	}
	parts := strings.Split(l.Holder, ":")
	if len(parts) == 3 {
		for _, p := range c.procs {
			if p.running() && strconv.Itoa(p.cmd.Process.Pid) == parts[1] {
				return p
			}
		}
	}
	c.t.Fatalf("no running replica holds the lease of mirror %d (holder %q)", id, l.Holder)
	return nil
}

// queryInt runs a counting query on the database.
func (c *cluster) queryInt(sql string, args ...any) int {
	c.t.Helper()
	var n int
	if err := c.st.Pool().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		c.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// reconciles counts the reconcile jobs ever enqueued.
func (c *cluster) reconciles() int {
	return c.queryInt(`SELECT count(*) FROM river_job WHERE kind = 'gitee_mirror.reconcile'`)
}

// TestThreeReplicas is issue 13's replica test: three App binaries on one
// Postgres, deliveries spread over them. Every mirror converges; a replica
// killed with SIGKILL mid-sync has that mirror finished by another within
// 60 s, with the pushes delivered meanwhile landed; a replica stopped with
// SIGTERM finishes its sync first; the forge fails the test if two
// receive-packs to one repository ever overlap; the periodic reconcile runs
// on the leader only, not once per replica.
func TestThreeReplicas(t *testing.T) {
	t.Parallel()
	c := newCluster(t, 3)
	ctx := context.Background()

	c.deliver("installation", c.f.InstallationPayload("created", e2eInstallation))
	c.waitFor("the installation is recorded", func() bool {
		_, err := c.st.GetInstallation(ctx, e2eInstallation)
		return err == nil
	})
	tokenReq, _ := http.NewRequest(http.MethodPut, c.replica().base+fmt.Sprintf("/admin/installations/%d/gitee-token", e2eInstallation),
		strings.NewReader(`{"token": "`+e2eGiteeToken+`"}`))
	tokenReq.Header.Set("Authorization", "Bearer "+e2eAdminToken)
	tokenReq.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(tokenReq)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("setting the Gitee token: %v %v", resp, err)
	}
	resp.Body.Close()

	// Six mirrors, each set up through a different replica in turn.
	const n = 6
	names := make([]string, n)
	heads := make([]string, n)
	for i := range n {
		names[i] = fmt.Sprintf("svc%d", i)
		c.f.SetRepo(e2eOwner, names[i], forgetest.RepoMeta{})
		heads[i] = c.push(names[i], map[string]string{
			e2eConfigPath: "target: acme/" + names[i] + "\ncreate-missing: true\nprune: true\n",
			"README.md":   names[i] + "\n",
		})
	}
	for i := range n {
		c.waitFor(names[i]+" is mirrored", func() bool { return c.mirrored(names[i], heads[i]) })
	}

	// While all three run, one of them leads and runs the periodic
	// reconcile: one at start (RunOnStart) and one per interval, not one
	// per replica.
	elapsed := time.Since(c.began)
	if got, limit := c.reconciles(), int(elapsed/replicaReconcile)+1; got > limit {
		t.Errorf("%d reconciles in %s with three replicas and an interval of %s: want at most %d, one leader's", got, elapsed.Round(time.Second), replicaReconcile, limit)
	}

	// SIGKILL the replica that pushes svc0, mid-pack.
	m0 := c.mirrorOf(names[0])
	reached, release := holdPush(t, c.f, e2eGiteeOrg, names[0], 1, true)
	blob := make([]byte, 256<<10)
	_, _ = rand.Read(blob)
	heads[0] = c.push(names[0], map[string]string{"big.txt": hex.EncodeToString(blob)})
	select {
	case <-reached:
	case <-time.After(replicaWait):
		t.Fatalf("the sync of %s never pushed\n%s", names[0], c.logTails())
	}
	victim := c.syncing(m0.ID)
	victim.kill()
	killed := time.Now()
	c.f.OnPushBody(nil)
	release()
	// Pushes keep arriving at the live replicas meanwhile, one for the
	// killed sync's mirror too: none may be lost.
	for i := range n {
		heads[i] = c.push(names[i], map[string]string{"after.txt": "after the kill\n"})
	}
	c.waitFor(names[0]+" is finished by another replica", func() bool { return c.mirrored(names[0], heads[0]) })
	took := time.Since(killed)
	t.Logf("%s killed mid-pack: another replica finished %s %s after the kill", victim.name, names[0], took.Round(100*time.Millisecond))
	if took > killConverge {
		t.Errorf("%s finished %s after its replica died, want within %s", names[0], took, killConverge)
	}
	for i := range n {
		c.waitFor(names[i]+" has every push", func() bool { return c.mirrored(names[i], heads[i]) })
	}

	// SIGTERM the replica that pushes svc1: it finishes that sync, then exits.
	m1 := c.mirrorOf(names[1])
	runs1, err := c.st.ListRuns(ctx, m1.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	reached, release = holdPush(t, c.f, e2eGiteeOrg, names[1], 1, false)
	heads[1] = c.push(names[1], map[string]string{"drain.txt": "during the shutdown\n"})
	select {
	case <-reached:
	case <-time.After(replicaWait):
		t.Fatalf("the sync of %s never pushed\n%s", names[1], c.logTails())
	}
	drained := c.syncing(m1.ID)
	exited := make(chan error, 1)
	go func() { exited <- drained.term() }()
	c.waitFor(drained.name+" is shutting down", func() bool { return strings.Contains(drained.logs.String(), `"shutting down"`) })
	release()
	if err := <-exited; err != nil {
		t.Errorf("%s after SIGTERM: %v\n%s", drained.name, err, drained.logTail())
	}
	c.f.OnPushBody(nil)
	if !c.mirrored(names[1], heads[1]) {
		t.Errorf("%s exited before finishing its sync of %s", drained.name, names[1])
	}
	after, err := c.st.ListRuns(ctx, m1.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range after[:len(after)-len(runs1)] {
		if r.Outcome != store.OutcomeOK {
			t.Errorf("%s: run %d during the drain: %s %s, want ok", names[1], r.ID, r.Outcome, r.ErrorMessage)
		}
	}

	// The last replica still serves: a push lands.
	heads[2] = c.push(names[2], map[string]string{"last.txt": "one replica left\n"})
	c.waitFor(names[2]+" is mirrored by the last replica", func() bool { return c.mirrored(names[2], heads[2]) })

	// One leader runs the periodic reconcile: once per interval, plus once
	// for each new leader (the two replicas stopped may have led), never
	// once per replica.
	elapsed = time.Since(c.began)
	reconciles := c.reconciles()
	if limit := int(elapsed/replicaReconcile) + 3; reconciles > limit {
		t.Errorf("%d reconciles in %s with an interval of %s: want at most %d, one leader's", reconciles, elapsed.Round(time.Second), replicaReconcile, limit)
	}
	t.Logf("%d reconciles in %s across 3 replicas (interval %s)", reconciles, elapsed.Round(time.Second), replicaReconcile)
	if leaders := c.queryInt(`SELECT count(*) FROM river_leader`); leaders > 1 {
		t.Errorf("%d River leaders, want at most 1", leaders)
	}
	if o := c.f.PushOverlaps(); len(o) > 0 {
		t.Errorf("overlapping pushes: %v", o)
	}
}
