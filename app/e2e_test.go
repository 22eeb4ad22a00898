package main

// End-to-end tests: the real App (run) on a real SQLite file, against one
// forgetest forge playing both GitHub (octo/*, with the App installed) and
// Gitee (organisation acme). Every test ends with the canary check: no
// secret in the logs, the App's answers or the data dir.

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/gitee"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

const e2eConfigPath = ".github/gitee-mirror.yml"

// pushMirror installs the App, pushes a settings file that mirrors
// octo/<name> to acme/<name> and waits for the first sync.
func (e *e2e) pushMirror(name string) *store.Mirror {
	e.t.Helper()
	e.f.SetRepo(e2eOwner, name, forgetest.RepoMeta{Description: "Widgets for all", Private: true})
	e.install()
	e.push(name, map[string]string{
		e2eConfigPath: "target: acme/" + name + "\ncreate-missing: true\nprune: true\n",
		"README.md":   "# " + name + "\n",
	})
	m := e.mirrorTo(name, name)
	if m.ConfigSource != "file" || m.Direction != store.AToB {
		e.t.Errorf("mirror from the file: source %q, direction %q", m.ConfigSource, m.Direction)
	}
	e.waitFor("the first sync mirrors octo/"+name, func() bool { return e.sameRefs(e2eOwner, name, e2eGiteeOrg, name) })
	e.idle()
	return e.mirror(m.ID)
}

// TestE2EPushToGitee: bad signatures are refused with nothing queued; a
// signed push lands on Gitee with a successful check run; its redelivery
// with the same id makes no second sync.
func TestE2EPushToGitee(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	m := e.pushMirror("widget")
	if meta, _ := e.f.RepoMeta(e2eGiteeOrg, "widget"); !meta.Private || meta.Description != "Widgets for all" {
		t.Errorf("created Gitee repository: %+v", meta)
	}

	// Bad signatures: 401, and no trace in the store or the queue.
	jobs, runs, seq := e.jobs(), len(e.runs(m.ID)), m.RequestSeq
	deliveries := e.deliveries()
	sha, payload := e.commit("widget", map[string]string{"a.txt": "one\n"})
	body, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	tampered := append([]byte(nil), body...)
	tampered[len(tampered)-2] ^= 1
	for name, opts := range map[string][]forgetest.DeliveryOption{
		"wrong secret": {forgetest.WithHeader("X-Hub-Signature-256", forgetest.SignGitHub("not-the-secret", body))},
		"no signature": {forgetest.WithHeader("X-Hub-Signature-256", "")},
		"garbage":      {forgetest.WithHeader("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64))},
	} {
		if code, got := e.github("push", body, opts...); code != http.StatusUnauthorized {
			t.Errorf("%s: %d %s, want 401", name, code, got)
		}
	}
	// A body changed after signing.
	if code, got := e.github("push", tampered, forgetest.WithHeader("X-Hub-Signature-256", forgetest.SignGitHub(e2eWebhookKey, body))); code != http.StatusUnauthorized {
		t.Errorf("tampered body: %d %s, want 401", code, got)
	}
	if got := e.jobs(); got != jobs {
		t.Errorf("jobs after bad signatures: %d, want %d", got, jobs)
	}
	if got := len(e.runs(m.ID)); got != runs {
		t.Errorf("runs after bad signatures: %d, want %d", got, runs)
	}
	if got := e.mirror(m.ID).RequestSeq; got != seq {
		t.Errorf("request sequence after bad signatures: %d, want %d", got, seq)
	}
	if got := e.deliveries(); got != deliveries {
		t.Errorf("deliveries recorded after bad signatures: %d, want %d", got, deliveries)
	}
	if e.sameRefs(e2eOwner, "widget", e2eGiteeOrg, "widget") {
		t.Fatalf("the push reached Gitee without a valid delivery")
	}

	// The signed delivery, then GitHub's redelivery of it.
	start := time.Now()
	for i, want := range []string{`"accepted"`, `"duplicate"`} {
		code, got := e.github("push", body, forgetest.WithDeliveryID("delivery-push-1"))
		if code != http.StatusOK || !strings.Contains(got, want) {
			t.Errorf("delivery %d: %d %s, want 200 %s", i+1, code, got, want)
		}
	}
	e.waitFor("the push is on Gitee", func() bool { return e.sameRefs(e2eOwner, "widget", e2eGiteeOrg, "widget") })
	t.Logf("push to Gitee took %s", time.Since(start))
	// The push's commit came with the sync request: it was fetched
	// beside the listings (mirror.Options.Hints).
	if !strings.Contains(e.logs.String(), "fetched the hinted commits beside the listings") {
		t.Errorf("the push's commit was not fetched beside the listings; logs:\n%s", e.logTail())
	}
	e.waitFor("a successful check run on the pushed commit", func() bool {
		return slices.ContainsFunc(e.f.CheckRuns(e2eOwner, "widget"), func(cr forgetest.CheckRun) bool {
			return cr.Name == forge.CheckRunName && cr.HeadSHA == sha && cr.Status == "completed" && cr.Conclusion == "success"
		})
	})
	e.idle()
	var pushRuns []*store.SyncRun
	for _, r := range e.runs(m.ID)[runs:] {
		if r.Trigger == "push" {
			pushRuns = append(pushRuns, r)
		}
	}
	if len(pushRuns) != 1 || pushRuns[0].Outcome != "ok" {
		t.Errorf("syncs after one delivery and its redelivery: %+v, want one ok", pushRuns)
	}
	if got := e.mirror(m.ID); got.Status != store.StatusInSync || got.ConsecutiveFailures != 0 {
		t.Errorf("mirror after the push: status %s, failures %d", got.Status, got.ConsecutiveFailures)
	}
	// Git tokens are scoped to the one repository.
	for _, tok := range e.f.MintedTokens() {
		if tok.Repositories != nil && !slices.Equal(tok.Repositories, []string{e2eOwner + "/widget"}) {
			t.Errorf("a token was minted for %v", tok.Repositories)
		}
	}
	e.checkCanaries()
}

// TestE2EGiteePushToGitHub: a Gitee push hook on the mirror's own URL brings
// the commit to GitHub for a pull mirror; a delivery with a wrong password
// is refused.
func TestE2EGiteePushToGitHub(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	ctx := context.Background()
	e.f.SetRepo(e2eOwner, "pulled", forgetest.RepoMeta{})
	e.f.SetRepo(e2eGiteeOrg, "upstream", forgetest.RepoMeta{})
	e.install()
	// The same first commit on both sides, with the settings file.
	_, payload := e.commit("pulled", map[string]string{e2eConfigPath: "target: acme/upstream\ndirection: pull\n", "README.md": "up\n"})
	w := e.repoWork("pulled")
	giteeURL := e.f.GitURL(e2eGiteeOrg, "upstream")
	if err := w.Push(giteeURL, e2eGiteeLogin, e2eGiteeToken, "HEAD:refs/heads/main"); err != nil {
		t.Fatal(err)
	}
	if code, body := e.github("push", payload); code != http.StatusOK {
		t.Fatalf("push delivery: %d %s", code, body)
	}
	m := e.mirrorTo("pulled", "upstream")
	if m.Direction != store.BToA {
		t.Fatalf("direction %q, want pull", m.Direction)
	}
	e.idle()

	// Register the Gitee webhook as the App's settings do: a secret of the
	// mirror's own, signature mode, on the mirror's URL.
	hookSecret := e2eRandomHex(t, 16)
	e.secrets = append(e.secrets, hookSecret)
	if err := e.db.SetMirrorHook(ctx, m.ID, hookSecret, 0); err != nil {
		t.Fatal(err)
	}
	gc, err := gitee.New(gitee.Config{BaseURL: e.f.GiteeAPIURL(), GitBaseURL: e.f.BaseURL(), Token: e2eGiteeToken})
	if err != nil {
		t.Fatal(err)
	}
	hookURL := e.base + "/webhooks/gitee/" + m.HookID
	hook, err := gc.CreateHook(ctx, e2eGiteeOrg, "upstream", gitee.HookOptions{
		URL: hookURL, EncryptionType: gitee.SignatureMode, Password: hookSecret, PushEvents: true, TagPushEvents: true})
	if err != nil {
		t.Fatalf("CreateHook: %v", err)
	}
	if err := e.db.SetMirrorHook(ctx, m.ID, hookSecret, hook.ID); err != nil {
		t.Fatal(err)
	}
	// Gitee's test delivery is a ping.
	if err := gc.TestHook(ctx, e2eGiteeOrg, "upstream", hook.ID); err != nil {
		t.Fatalf("TestHook: %v", err)
	}
	if hs := e.f.GiteeHooks(e2eGiteeOrg, "upstream"); len(hs) != 1 || hs[0].Tests != 1 {
		t.Errorf("hooks: %+v", hs)
	}

	runs := len(e.runs(m.ID))
	before := w.Rev("HEAD")
	after := w.Commit("on Gitee", map[string]string{"gitee.txt": "from Gitee\n"})
	tag := w.Tag("v1.0.0", after, true)
	if err := w.Push(giteeURL, e2eGiteeLogin, e2eGiteeToken, "HEAD:refs/heads/main", "refs/tags/v1.0.0"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ds := e.f.DeliverGiteePush(e2eGiteeOrg, "upstream", "refs/heads/main", before, after)
	if len(ds) != 1 || ds[0].Err != nil || ds[0].Status != http.StatusOK {
		t.Fatalf("deliveries: %+v", ds)
	}
	e.waitFor("the Gitee push is on GitHub", func() bool { return e.sameRefs(e2eGiteeOrg, "upstream", e2eOwner, "pulled") })
	t.Logf("pull to GitHub took %s", time.Since(start))
	if got := e.f.Refs(e2eOwner, "pulled")["refs/tags/v1.0.0"]; got != tag {
		t.Errorf("tag on GitHub: %q, want %q", got, tag)
	}
	e.idle()
	rs := e.runs(m.ID)[runs:]
	if len(rs) != 1 || rs[0].Trigger != "gitee-push" || rs[0].Outcome != "ok" {
		t.Errorf("runs after the hook: %+v", rs)
	}

	// A hook with another password reaches the same URL: refused, nothing
	// requested.
	if _, err := gc.CreateHook(ctx, e2eGiteeOrg, "upstream", gitee.HookOptions{
		URL: hookURL, EncryptionType: gitee.PasswordMode, Password: "not-the-password", PushEvents: true}); err != nil {
		t.Fatal(err)
	}
	seq := e.mirror(m.ID).RequestSeq
	jobs := e.jobs()
	var codes []int
	for _, d := range e.f.DeliverGiteePush(e2eGiteeOrg, "upstream", "refs/heads/main", before, after) {
		codes = append(codes, d.Status)
	}
	if !slices.Equal(codes, []int{http.StatusOK, http.StatusUnauthorized}) {
		t.Errorf("deliveries of a good and a bad hook: %v", codes)
	}
	e.idle()
	if got := e.mirror(m.ID).RequestSeq; got != seq+1 {
		t.Errorf("request sequence: %d, want %d (one good delivery)", got, seq+1)
	}
	if got := e.jobs(); got > jobs+1 {
		t.Errorf("jobs: %d, want at most %d", got, jobs+1)
	}

	// A workflow file from Gitee needs the workflows permission, which the
	// App was not granted: the run says exactly that.
	runs = len(e.runs(m.ID))
	before = after
	after = w.Commit("add CI", map[string]string{".github/workflows/ci.yml": "on: push\n"})
	if err := w.Push(giteeURL, e2eGiteeLogin, e2eGiteeToken, "HEAD:refs/heads/main"); err != nil {
		t.Fatal(err)
	}
	e.f.DeliverGiteePush(e2eGiteeOrg, "upstream", "refs/heads/main", before, after)
	e.waitFor("the refused sync is recorded", func() bool { return len(e.finishedRuns(m.ID)) > runs })
	e.idle()
	rs = e.runs(m.ID)
	if last := rs[len(rs)-1]; last.Outcome != "failed" || last.ErrorClass != "permission" || !strings.Contains(last.ErrorMessage, "`workflows` permission") {
		t.Errorf("sync of a workflow file: %s %s %q", last.Outcome, last.ErrorClass, last.ErrorMessage)
	}
	if got := e.mirror(m.ID); !strings.Contains(got.LastError, "workflows") || got.Status != store.StatusFailing {
		t.Errorf("mirror after the workflow refusal: status %s, last error %q", got.Status, got.LastError)
	}
	if e.f.Refs(e2eOwner, "pulled")["refs/heads/main"] == after {
		t.Errorf("the workflow commit reached GitHub without the permission")
	}
	e.checkCanaries()
}

// TestE2EPauseAfterFailures: five failed syncs pause the mirror with the
// last error; a new push resumes it and it syncs.
func TestE2EPauseAfterFailures(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	m := e.pushMirror("widget")
	const refusal = "push refused: repository quota exceeded"
	e.f.RejectRef(e2eGiteeOrg, "widget", "refs/heads/main", refusal)
	var sha string
	for i := 1; i <= 5; i++ {
		n := len(e.finishedRuns(m.ID))
		sha = e.push("widget", map[string]string{"n.txt": strings.Repeat("x", i)})
		e.waitFor("the failed sync is recorded", func() bool { return len(e.finishedRuns(m.ID)) > n })
		rs := e.finishedRuns(m.ID)
		last := rs[len(rs)-1]
		if last.Outcome != "failed" || !strings.Contains(last.ErrorMessage, refusal) {
			t.Fatalf("sync %d: %s %q, want failed with %q", i, last.Outcome, last.ErrorMessage, refusal)
		}
		if i < 5 {
			e.idle()
			if got := e.mirror(m.ID); got.Paused || got.ConsecutiveFailures != i || got.Status != store.StatusFailing {
				t.Fatalf("after %d failures: paused %v, failures %d, status %s", i, got.Paused, got.ConsecutiveFailures, got.Status)
			}
		}
	}
	e.waitFor("the mirror is paused", func() bool { return e.mirror(m.ID).Paused })
	e.waitFor("a failed check run on the last refused commit", func() bool {
		return slices.ContainsFunc(e.f.CheckRuns(e2eOwner, "widget"), func(cr forgetest.CheckRun) bool {
			return cr.Name == forge.CheckRunName && cr.HeadSHA == sha && cr.Conclusion == "failure"
		})
	})
	got := e.mirror(m.ID)
	if !got.PausedByFailures || got.Status != store.StatusPaused || !strings.Contains(got.PausedReason, refusal) ||
		!strings.Contains(got.LastError, refusal) || got.LastErrorClass != "rejected" {
		t.Errorf("paused mirror: by failures %v, status %s, reason %q, last error %q (%s)",
			got.PausedByFailures, got.Status, got.PausedReason, got.LastError, got.LastErrorClass)
	}
	code, list := e.admin(http.MethodGet, "/admin/mirrors", nil)
	if code != http.StatusOK || !strings.Contains(list, `"paused":true`) || !strings.Contains(list, "quota exceeded") {
		t.Errorf("GET /admin/mirrors: %d %s", code, list)
	}
	e.idle()

	// Gitee takes pushes again; the next push resumes the mirror.
	e.f.RejectRef(e2eGiteeOrg, "widget", "refs/heads/main", "")
	e.push("widget", map[string]string{"n.txt": "fixed"})
	e.waitFor("the resumed mirror syncs", func() bool {
		m := e.mirror(m.ID)
		return !m.Paused && m.Status == store.StatusInSync && e.sameRefs(e2eOwner, "widget", e2eGiteeOrg, "widget")
	})
	if got := e.mirror(m.ID); got.ConsecutiveFailures != 0 || got.PausedReason != "" {
		t.Errorf("resumed mirror: failures %d, reason %q", got.ConsecutiveFailures, got.PausedReason)
	}
	e.checkCanaries()
}

// TestE2ERestartMidSync: the App stopped while a sync is pushing to Gitee
// hands the job back; after a restart on the same data dir the sync
// completes.
func TestE2ERestartMidSync(t *testing.T) {
	t.Parallel()
	e := newE2E(t, map[string]string{"GITEE_MIRROR_SHUTDOWN_TIMEOUT": "1s"})
	m := e.pushMirror("widget")

	blocked, release := make(chan struct{}), make(chan struct{})
	var blockOnce, releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(unblock) // before the forge waits for its handlers
	e.f.OnRequest(func(r *http.Request) {
		if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/acme/widget") && strings.HasSuffix(r.URL.Path, "/git-receive-pack") {
			blockOnce.Do(func() { close(blocked) })
			<-release
		}
	})
	runs := len(e.runs(m.ID))
	e.push("widget", map[string]string{"b.txt": "held\n"})
	select {
	case <-blocked:
	case <-time.After(e2ePollTimeout):
		t.Fatalf("the sync never pushed to Gitee\n%s", e.logTail())
	}
	stopped := time.Now()
	if err := e.stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	t.Logf("stopped mid-sync in %s", time.Since(stopped))
	if e.sameRefs(e2eOwner, "widget", e2eGiteeOrg, "widget") {
		t.Fatalf("the held push landed before the restart")
	}
	e.f.OnRequest(nil)
	unblock()
	if n := e.jobs("running"); n != 0 {
		t.Errorf("%d jobs left running after a clean stop", n)
	}
	if n := e.jobs("available", "scheduled", "retryable"); n == 0 {
		t.Errorf("the interrupted sync was not handed back to the queue")
	}

	e.start()
	e.waitFor("the sync completes after the restart", func() bool { return e.sameRefs(e2eOwner, "widget", e2eGiteeOrg, "widget") })
	e.reconciled(2) // and its drift check, which must find nothing to do
	e.idle()
	rs := e.runs(m.ID)[runs:]
	var interrupted, completed bool
	for _, r := range rs {
		interrupted = interrupted || r.Outcome == "interrupted" && strings.Contains(r.ErrorMessage, "interrupted")
		completed = completed || r.Outcome == "ok" && r.Trigger == "push"
		if r.Outcome == "running" {
			t.Errorf("run %d still running", r.ID)
		}
	}
	if !interrupted || !completed {
		for _, r := range rs {
			t.Logf("run %d: trigger %s outcome %s %s", r.ID, r.Trigger, r.Outcome, r.ErrorMessage)
		}
		t.Errorf("want an interrupted run and the push's sync completed after the restart")
	}
	if got := e.mirror(m.ID); got.Status != store.StatusInSync {
		t.Errorf("status after the restart: %s", got.Status)
	}
	e.checkCanaries()
}

// TestE2EConfigChange: changes of .github/gitee-mirror.yml pushed to the
// default branch create, update and remove mirrors.
func TestE2EConfigChange(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	first := e.pushMirror("widget")
	if first.Force || len(first.Branches) != 0 {
		t.Errorf("first mirror: force %v, branches %v", first.Force, first.Branches)
	}

	// A second target, and new settings for the first.
	e.push("widget", map[string]string{e2eConfigPath: "mirrors:\n" +
		"  - target: acme/widget\n    branches: [main]\n    force: true\n" +
		"  - target: acme/second\n    create-missing: true\n    visibility: public\n"})
	second := e.mirrorTo("widget", "second")
	e.waitFor("the first mirror's settings change", func() bool {
		m := e.mirror(first.ID)
		return m.Force && slices.Equal(m.Branches, []string{"main"})
	})
	e.waitFor("the second mirror syncs", func() bool { return e.sameRefs(e2eOwner, "widget", e2eGiteeOrg, "second") })
	if meta, _ := e.f.RepoMeta(e2eGiteeOrg, "second"); meta.Private {
		t.Errorf("second Gitee repository is private, want public")
	}
	e.waitFor("the first mirror syncs the file change", func() bool { return e.sameRefs(e2eOwner, "widget", e2eGiteeOrg, "widget") })
	e.idle()

	// The first target leaves the file: its mirror goes.
	e.push("widget", map[string]string{e2eConfigPath: "target: acme/second\ncreate-missing: true\nvisibility: public\n"})
	e.waitFor("the first mirror is removed", func() bool { return e.findMirror("widget", "widget") == nil })
	e.waitFor("the second mirror syncs", func() bool { return e.sameRefs(e2eOwner, "widget", e2eGiteeOrg, "second") })
	e.idle()
	if got := e.mirror(second.ID); got.ConfigSource != "file" || got.Status != store.StatusInSync {
		t.Errorf("second mirror: source %q, status %s", got.ConfigSource, got.Status)
	}
	e.checkCanaries()
}

// TestE2EInstallThenToken: the App installed on a repository that has its
// settings file already makes the mirror, whose first sync fails for want of
// a Gitee token; connecting the token syncs it without waiting for a push.
func TestE2EInstallThenToken(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	e.f.SetRepo(e2eOwner, "widget", forgetest.RepoMeta{})
	e.commit("widget", map[string]string{e2eConfigPath: "target: acme/widget\ncreate-missing: true\n"}) // before the App
	if code, body := e.github("installation", e.f.InstallationPayload("created", e2eInstallation)); code != http.StatusOK {
		t.Fatalf("installation delivery: %d %s", code, body)
	}
	m := e.mirrorTo("widget", "widget")
	e.waitFor("the first sync fails without a Gitee token", func() bool { return len(e.finishedRuns(m.ID)) > 0 })
	e.idle()
	if got := e.mirror(m.ID); got.Status != store.StatusFailing || got.LastErrorClass != "auth" || !strings.Contains(got.LastError, "gitee-token") {
		t.Errorf("mirror without a token: status %s, last error %q (%s)", got.Status, got.LastError, got.LastErrorClass)
	}
	code, body := e.admin(http.MethodPut, "/admin/installations/77/gitee-token", map[string]string{"token": e2eGiteeToken})
	if code != http.StatusOK {
		t.Fatalf("setting the Gitee token: %d %s", code, body)
	}
	e.waitFor("the mirror syncs once the token is connected", func() bool { return e.sameRefs(e2eOwner, "widget", e2eGiteeOrg, "widget") })
	e.idle()
	if got := e.mirror(m.ID); got.Status != store.StatusInSync || got.ConsecutiveFailures != 0 {
		t.Errorf("mirror after the token: status %s, failures %d", got.Status, got.ConsecutiveFailures)
	}
	e.checkCanaries()
}
