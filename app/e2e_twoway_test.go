package main

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/gitee"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// site is one side of a two-way mirror as a developer works on it: a clone
// that pushes there with that site's credentials.
type site struct {
	w            *forgetest.Work
	url          string
	login, token string
}

// commit brings branch of the clone up to the site's (when the site has
// it), commits files on it and pushes it; it returns the commit and the
// branch's value before.
func (s site) commit(t *testing.T, branch string, files map[string]string) (sha, before string) {
	t.Helper()
	if err := s.w.Fetch(s.url, s.login, s.token, "+refs/heads/*:refs/remotes/site/*"); err != nil {
		t.Fatal(err)
	}
	before = s.w.Run("for-each-ref", "--format=%(objectname)", "refs/remotes/site/"+branch)
	if before = strings.TrimSpace(before); before != "" {
		s.w.Checkout(before)
	}
	sha = s.w.Commit("on "+s.login+" "+branch, files)
	if err := s.w.Push(s.url, s.login, s.token, "HEAD:refs/heads/"+branch); err != nil {
		t.Fatalf("push %s to %s: %v", branch, s.url, err)
	}
	return sha, before
}

// TestE2ETwoWay: direction both in the settings file makes a two-way
// mirror; a commit on each site lands on the other (a GitHub push event, a
// Gitee push hook), the echo of the App's own push is a no-op, and a branch
// changed on both sites is a conflict: nothing is overwritten on either
// side, the other branch still lands, and the check run on the GitHub
// commit and the mirror's status give both commits and the commands that
// resolve it.
func TestE2ETwoWay(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	ctx := context.Background()
	e.f.SetRepo(e2eOwner, "both", forgetest.RepoMeta{})
	e.install()
	e.push("both", map[string]string{e2eConfigPath: "target: acme/both\ndirection: both\n", "README.md": "both\n"})
	m := e.mirrorTo("both", "both")
	if m.Direction != store.Both {
		t.Fatalf("direction %q, want both", m.Direction)
	}
	e.waitFor("the first sync creates acme/both", func() bool { return e.sameRefs(e2eOwner, "both", e2eGiteeOrg, "both") })
	e.idle()

	// The Gitee webhook, registered as the App does for mirrors fed from
	// Gitee.
	hookSecret := e2eRandomHex(t, 16)
	e.secrets = append(e.secrets, hookSecret)
	gc, err := gitee.New(gitee.Config{BaseURL: e.f.GiteeAPIURL(), GitBaseURL: e.f.BaseURL(), Token: e2eGiteeToken})
	if err != nil {
		t.Fatal(err)
	}
	hook, err := gc.CreateHook(ctx, e2eGiteeOrg, "both", gitee.HookOptions{URL: e.base + "/webhooks/gitee/" + m.HookID,
		EncryptionType: gitee.SignatureMode, Password: hookSecret, PushEvents: true, TagPushEvents: true})
	if err != nil {
		t.Fatalf("CreateHook: %v", err)
	}
	if err := e.db.SetMirrorHook(ctx, m.ID, hookSecret, hook.ID); err != nil {
		t.Fatal(err)
	}

	gh := site{w: forgetest.NewWork(t), url: e.f.GitURL(e2eOwner, "both"), login: e2eDevLogin, token: e2eDevToken}
	gt := site{w: forgetest.NewWork(t), url: e.f.GitURL(e2eGiteeOrg, "both"), login: e2eGiteeLogin, token: e2eGiteeToken}

	// A commit on Gitee reaches GitHub through the Gitee hook.
	onGitee, before := gt.commit(t, "main", map[string]string{"gitee.txt": "from Gitee\n"})
	if ds := e.f.DeliverGiteePush(e2eGiteeOrg, "both", "refs/heads/main", before, onGitee); len(ds) != 1 || ds[0].Status != http.StatusOK {
		t.Fatalf("Gitee deliveries: %+v", ds)
	}
	e.waitFor("the Gitee commit is on GitHub", func() bool { return e.f.Refs(e2eOwner, "both")["refs/heads/main"] == onGitee })
	e.idle()

	// A commit on GitHub reaches Gitee through the push event.
	onGitHub, before := gh.commit(t, "main", map[string]string{"github.txt": "from GitHub\n"})
	if code, body := e.github("push", e.f.PushPayload(e2eOwner, "both", "refs/heads/main", before, onGitHub, e2eInstallation)); code != http.StatusOK {
		t.Fatalf("push delivery: %d %s", code, body)
	}
	e.waitFor("the GitHub commit is on Gitee", func() bool { return e.f.Refs(e2eGiteeOrg, "both")["refs/heads/main"] == onGitHub })
	e.idle()
	if !e.sameRefs(e2eOwner, "both", e2eGiteeOrg, "both") {
		t.Errorf("the sides differ after both commits: %v / %v", e.f.Refs(e2eOwner, "both"), e.f.Refs(e2eGiteeOrg, "both"))
	}

	// The echo of the App's push to Gitee: a sync that writes nothing.
	runs := len(e.runs(m.ID))
	e.f.DeliverGiteePush(e2eGiteeOrg, "both", "refs/heads/main", onGitee, onGitHub)
	e.waitFor("the echo's sync is recorded", func() bool { return len(e.finishedRuns(m.ID)) > runs })
	e.idle()
	for _, r := range e.runs(m.ID)[runs:] {
		if r.Outcome != store.OutcomeOK || r.Bytes != 0 || slices.ContainsFunc(r.Refs, mirror.RefResult.Changed) {
			t.Errorf("echo sync: %s, %d bytes, refs %+v; want a no-op", r.Outcome, r.Bytes, r.Refs)
		}
	}

	// main changes on both sites; a new branch only on GitHub.
	ghMain, ghBefore := gh.commit(t, "main", map[string]string{"README.md": "GitHub's words\n"})
	giteeMain, _ := gt.commit(t, "main", map[string]string{"README.md": "Gitee's words\n"})
	feature, _ := gh.commit(t, "feature", map[string]string{"feature.txt": "new\n"})
	e.github("push", e.f.PushPayload(e2eOwner, "both", "refs/heads/feature", "", feature, e2eInstallation))
	e.github("push", e.f.PushPayload(e2eOwner, "both", "refs/heads/main", ghBefore, ghMain, e2eInstallation))
	e.waitFor("a neutral check run reports the conflict on GitHub's commit", func() bool {
		return slices.ContainsFunc(e.f.CheckRuns(e2eOwner, "both"), func(cr forgetest.CheckRun) bool {
			return cr.Name == forge.CheckRunName && cr.HeadSHA == ghMain && cr.Conclusion == "neutral"
		})
	})
	e.waitFor("the new branch is on Gitee", func() bool { return e.f.Refs(e2eGiteeOrg, "both")["refs/heads/feature"] == feature })
	e.idle()
	if got := e.f.Refs(e2eOwner, "both")["refs/heads/main"]; got != ghMain {
		t.Errorf("GitHub main = %s, want its own %s: a conflict overwrites nothing", got, ghMain)
	}
	if got := e.f.Refs(e2eGiteeOrg, "both")["refs/heads/main"]; got != giteeMain {
		t.Errorf("Gitee main = %s, want its own %s: a conflict overwrites nothing", got, giteeMain)
	}
	crs := e.f.CheckRuns(e2eOwner, "both")
	cr := crs[slices.IndexFunc(crs, func(cr forgetest.CheckRun) bool { return cr.HeadSHA == ghMain && cr.Conclusion == "neutral" })]
	for _, want := range []string{ghMain, giteeMain, "git fetch " + gt.url + " refs/heads/main && git push --force " + gh.url + " FETCH_HEAD:refs/heads/main",
		"git fetch " + gh.url + " refs/heads/main && git push --force " + gt.url + " FETCH_HEAD:refs/heads/main"} {
		if !strings.Contains(cr.Summary, want) {
			t.Errorf("check run lacks %q:\n%s", want, cr.Summary)
		}
	}
	// What the status page shows: the mirror's state and its newest run's
	// conflict with both commits (the page's rendering is tested in
	// internal/settings).
	got := e.mirror(m.ID)
	if got.Status != store.StatusDiverged || !strings.Contains(got.LastError, "conflict") || !strings.Contains(got.LastError, "refs/heads/main") {
		t.Errorf("mirror after the conflict: %s %q", got.Status, got.LastError)
	}
	rs := e.finishedRuns(m.ID)
	last := rs[len(rs)-1]
	if i := slices.IndexFunc(last.Refs, func(r mirror.RefResult) bool { return r.Ref == "refs/heads/main" }); i < 0 ||
		last.Refs[i].Outcome != mirror.Conflict || last.Refs[i].Source != ghMain || last.Refs[i].Target != giteeMain {
		t.Errorf("newest run's refs: %+v, want main in conflict between %s and %s", last.Refs, ghMain, giteeMain)
	}
	e.checkCanaries()
}
