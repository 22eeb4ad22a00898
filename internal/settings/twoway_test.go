package settings

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// TestTwoWayMirrorPage: the form makes a two-way mirror (explaining
// conflicts, registering its Gitee webhook), refuses force with it, and the
// mirror's page and the status page show a conflict with both commits and
// the commands that resolve it.
func TestTwoWayMirrorPage(t *testing.T) {
	t.Parallel()
	tb := setup(t, true)
	ctx := context.Background()
	b := tb.browser(t)
	b.signIn("alice")
	b.post(fmt.Sprintf("%s/installations/%d/gitee", Prefix, aliceInst), url.Values{"token": {giteeToken}})
	repoPath := fmt.Sprintf("%s/installations/%d/repos/%d", Prefix, aliceInst, tb.aliceRepoID)
	if _, page := b.get(repoPath); !strings.Contains(page, `value="both"`) || !strings.Contains(page, "conflict") {
		t.Errorf("the form offers no two-way direction with its explanation:\n%.3000s", page)
	}

	code, body := b.post(repoPath+"/mirrors", url.Values{
		"gitee_owner": {"gitee-alice"}, "gitee_name": {"proj"}, "direction": {"both"}, "force": {"on"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "direction both") {
		t.Errorf("both with force: %d, want 422 saying why\n%.3000s", code, body)
	}
	if ms, _ := tb.store.ListMirrors(ctx, store.MirrorFilter{}); len(ms) != 0 {
		t.Fatalf("a refused form made a mirror: %+v", ms[0])
	}
	code, body = b.post(repoPath+"/mirrors", url.Values{
		"gitee_owner": {"gitee-alice"}, "gitee_name": {"proj"}, "direction": {"both"}, "prune": {"on"}})
	if code != http.StatusOK || !strings.Contains(body, "Gitee webhook registered") || !strings.Contains(body, "Two-way with Gitee gitee-alice/proj") {
		t.Fatalf("create two-way mirror: %d\n%.3000s", code, body)
	}
	ms, _ := tb.store.ListMirrors(ctx, store.MirrorFilter{})
	if len(ms) != 1 || ms[0].Direction != store.Both || ms[0].HookRemoteID == 0 {
		t.Fatalf("mirrors = %+v, want one two-way mirror with its webhook", ms)
	}
	m := ms[0]

	// A sync that found main changed on both sides.
	const ghSHA, giteeSHA = "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"
	run := &store.SyncRun{MirrorID: m.ID, Trigger: store.TriggerPush, StartedAt: time.Now()}
	if err := tb.store.StartRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	run.FinishedAt, run.Outcome, run.ErrorClass = time.Now(), store.OutcomeDiverged, "diverged"
	run.ErrorMessage = "1 ref changed on both sides since the last sync (conflict)"
	run.Refs = []mirror.RefResult{
		{Ref: "refs/heads/main", Outcome: mirror.Conflict, Source: ghSHA, Target: giteeSHA},
		{Ref: "refs/heads/dev", Outcome: mirror.Updated, Source: "3333333333333333333333333333333333333333", Side: mirror.SideTarget},
	}
	if _, err := tb.store.FinishRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	keepGitHub := "git fetch " + tb.cfg.GitHubURL + "/alice/proj.git refs/heads/main &amp;&amp; git push --force " + tb.cfg.GiteeURL + "/gitee-alice/proj.git FETCH_HEAD:refs/heads/main"
	keepGitee := "git fetch " + tb.cfg.GiteeURL + "/gitee-alice/proj.git refs/heads/main &amp;&amp; git push --force " + tb.cfg.GitHubURL + "/alice/proj.git FETCH_HEAD:refs/heads/main"
	for name, path := range map[string]string{"mirror page": repoPath, "status page": Prefix + "/status"} {
		code, page := b.get(path)
		if code != http.StatusOK {
			t.Fatalf("%s: %d", name, code)
		}
		for _, want := range []string{"Conflicts", ghSHA, giteeSHA, keepGitHub, keepGitee, "merge the two commits"} {
			if !strings.Contains(page, want) {
				t.Errorf("%s lacks %q:\n%.6000s", name, want, page)
			}
		}
	}
}
