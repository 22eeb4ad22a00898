package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// killConverge is issue 10's bound: a sync whose process died is run again,
// and the mirror converges, within this long after the restart.
const killConverge = 60 * time.Second

// killWait bounds the wait for convergence: past killConverge the test
// fails, but it still waits to tell "late" from "never".
const killWait = 3 * time.Minute

// killPoint is a moment of a sync at which the App is killed: arm holds the
// sync there and closes reached once it is held; release lets the forge's
// side go on (the App is dead by then).
type killPoint struct {
	name   string
	twoWay bool
	arm    func(e *e2e, repo string) (reached <-chan struct{}, release func())
}

// holdRequest holds the first Git request that match selects, before git
// runs, until release.
func holdRequest(e *e2e, match func(r *http.Request) bool) (<-chan struct{}, func()) {
	reached, released := make(chan struct{}), make(chan struct{})
	var once, rel sync.Once
	release := func() { rel.Do(func() { close(released) }) }
	e.t.Cleanup(release) // before the forge waits for its handlers
	e.f.OnRequest(func(r *http.Request) {
		if match(r) {
			held := false
			once.Do(func() { held = true; close(reached) })
			if held {
				<-released
			}
		}
	})
	return reached, release
}

// holdPush holds the App's first push to owner/repo once the forge has
// read at bytes of its body. With cut, release cuts the body there: what
// the dead App had not yet handed to the network is lost with it; else the
// push goes on.
func holdPush(t *testing.T, f *forgetest.Forge, owner, repo string, at int64, cut bool) (<-chan struct{}, func()) {
	reached, released := make(chan struct{}), make(chan struct{})
	var once, rel sync.Once
	release := func() { rel.Do(func() { close(released) }) }
	t.Cleanup(release)
	f.OnPushBody(func(r *http.Request, read int64) error {
		if read < at || !isPost(r, owner, repo, "git-receive-pack") {
			return nil
		}
		held := false
		once.Do(func() { held = true; close(reached) })
		if !held {
			return nil
		}
		<-released
		if !cut {
			return nil
		}
		return errors.New("the pusher died mid-pack")
	})
	return reached, release
}

// isPost reports whether r is the App's POST to service of owner/repo (not
// one of the test's own pushes as a developer).
func isPost(r *http.Request, owner, repo, service string) bool {
	if _, pw, _ := r.BasicAuth(); pw == e2eDevToken {
		return false
	}
	return r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/"+owner+"/"+repo) && strings.HasSuffix(r.URL.Path, "/"+service)
}

// midPackAt is how much of the push's pack the forge reads before it holds
// the push: well inside the ~1 MB pack the mid-pack kill point sends.
const midPackAt = 64 << 10

var killPoints = []killPoint{
	{name: "before the first push", arm: func(e *e2e, repo string) (<-chan struct{}, func()) {
		// The sync asks the source for objects: nothing is pushed yet.
		return holdRequest(e, func(r *http.Request) bool { return isPost(r, e2eOwner, repo, "git-upload-pack") })
	}},
	{name: "mid-pack", arm: func(e *e2e, repo string) (<-chan struct{}, func()) {
		return holdPush(e.t, e.f, e2eGiteeOrg, repo, midPackAt, true)
	}},
	{name: "one leg landed", twoWay: true, arm: func(e *e2e, repo string) (<-chan struct{}, func()) {
		// A two-way sync pushes to both sides: hold the push to GitHub;
		// the test kills the App once the push to Gitee has landed.
		return holdPush(e.t, e.f, e2eOwner, repo, 1, true)
	}},
}

// TestKillMidSyncConverges is issue 10's kill-point test: the real App
// binary, on SQLite, is killed with SIGKILL at several points of a sync,
// then started again; the mirror converges (both sides' refs equal, every
// commit there) within 60 s of the restart, the dead run is recorded as
// interrupted, and no secret leaks. The sync runs again once the dead
// sync's lease lapses (GITEE_MIRROR_LEASE_TTL, the default 30 s), not
// after River's stuck-job rescue (sync timeout + 5 min).
func TestKillMidSyncConverges(t *testing.T) {
	t.Parallel()
	bin := buildApp(t, t.TempDir())
	var mu sync.Mutex
	table := map[string]time.Duration{}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		names := make([]string, 0, len(table))
		for n := range table {
			names = append(names, n)
		}
		sort.Strings(names)
		var b strings.Builder
		b.WriteString("kill point                 | restart → converged\n")
		for _, n := range names {
			b.WriteString(n + strings.Repeat(" ", max(0, 27-len(n))) + "| " + table[n].Round(100*time.Millisecond).String() + "\n")
		}
		t.Logf("convergence after SIGKILL and restart (bound %s):\n%s", killConverge, b.String())
	})
	for _, kp := range killPoints {
		t.Run(kp.name, func(t *testing.T) {
			t.Parallel()
			took := killAndRestart(t, bin, kp)
			mu.Lock()
			table[kp.name] = took
			mu.Unlock()
		})
	}
}

// killAndRestart runs one kill point and returns the time from the
// restart until the mirror converged.
func killAndRestart(t *testing.T, bin string, kp killPoint) time.Duration {
	e := newE2EWith(t, nil, bin)
	const repo = "widget"
	var m *store.Mirror
	var gitee site
	if kp.twoWay {
		e.f.SetRepo(e2eOwner, repo, forgetest.RepoMeta{})
		e.install()
		e.push(repo, map[string]string{e2eConfigPath: "target: acme/" + repo + "\ndirection: both\n", "README.md": "both\n"})
		m = e.mirrorTo(repo, repo)
		e.waitFor("the first sync creates acme/"+repo, func() bool { return e.sameRefs(e2eOwner, repo, e2eGiteeOrg, repo) })
		e.idle()
		gitee = site{w: forgetest.NewWork(t), url: e.f.GitURL(e2eGiteeOrg, repo), login: e2eGiteeLogin, token: e2eGiteeToken}
	} else {
		m = e.pushMirror(repo)
	}
	runs := len(e.runs(m.ID))

	reached, release := kp.arm(e, repo)
	// A commit big enough that its pack crosses several reads: random
	// text, about 1 MB once compressed.
	blob := make([]byte, 1<<20)
	if _, err := rand.Read(blob); err != nil {
		t.Fatal(err)
	}
	var want []string // commits that must be on both sides in the end
	if kp.twoWay {
		// A branch only Gitee has: the second leg brings it to GitHub.
		onGitee, _ := gitee.commit(t, "from-gitee", map[string]string{"gitee.txt": "from Gitee\n"})
		want = append(want, onGitee)
	}
	pushed := e.push(repo, map[string]string{"big.txt": hex.EncodeToString(blob)[:1<<20]})
	want = append(want, pushed)
	select {
	case <-reached:
	case <-time.After(killWait):
		t.Fatalf("the sync never reached the kill point\n%s", e.logTail())
	}
	if kp.twoWay {
		e.waitFor("the leg to Gitee landed", func() bool { return e.f.Refs(e2eGiteeOrg, repo)["refs/heads/main"] == pushed })
	}
	e.proc.kill()
	killed := time.Now()
	e.f.OnRequest(nil)
	e.f.OnPushBody(nil)
	release()
	e.f.WaitGitIdle() // what the forge still did for the dead App is done
	if kp.twoWay {
		if _, ok := e.f.Refs(e2eOwner, repo)["refs/heads/from-gitee"]; ok {
			t.Fatalf("the held second leg landed before the restart")
		}
	} else if e.sameRefs(e2eOwner, repo, e2eGiteeOrg, repo) {
		t.Fatalf("the held push landed before the restart")
	}

	restart := time.Now()
	e.start()
	converged := func() bool {
		if !e.sameRefs(e2eOwner, repo, e2eGiteeOrg, repo) {
			return false
		}
		for _, sha := range want {
			if !refsHave(e.f.Refs(e2eOwner, repo), sha) || !refsHave(e.f.Refs(e2eGiteeOrg, repo), sha) {
				return false
			}
		}
		return true
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !converged() {
		if time.Since(restart) > killWait {
			t.Fatalf("not converged %s after the restart\nGitHub %v\nGitee  %v\n%s", killWait,
				e.f.Refs(e2eOwner, repo), e.f.Refs(e2eGiteeOrg, repo), e.logTail())
		}
		<-tick.C
	}
	took := time.Since(restart)
	t.Logf("killed %s: restarted %s after the kill, converged %s after the restart", kp.name, restart.Sub(killed).Round(time.Millisecond), took.Round(time.Millisecond))
	if took > killConverge {
		t.Errorf("converged %s after the restart, want within %s", took, killConverge)
	}

	e.idle()
	rs := e.runs(m.ID)[runs:]
	var died, ok bool
	for _, r := range rs {
		died = died || r.Outcome == store.OutcomeInterrupted && strings.Contains(r.ErrorMessage, "died")
		ok = ok || r.Outcome == store.OutcomeOK
		if r.Outcome == store.OutcomeRunning {
			t.Errorf("run %d still running", r.ID)
		}
	}
	if !died || !ok {
		for _, r := range rs {
			t.Logf("run %d: trigger %s outcome %s %s", r.ID, r.Trigger, r.Outcome, r.ErrorMessage)
		}
		t.Errorf("want the dead sync recorded as interrupted, and an ok run after the restart")
	}
	if got := e.mirror(m.ID); got.Status != store.StatusInSync || got.ConsecutiveFailures != 0 {
		t.Errorf("mirror after the restart: status %s, %d failures", got.Status, got.ConsecutiveFailures)
	}
	e.checkCanaries()
	return took
}

// refsHave reports whether a ref of refs points at sha.
func refsHave(refs map[string]string, sha string) bool {
	for _, v := range refs {
		if v == sha {
			return true
		}
	}
	return false
}
