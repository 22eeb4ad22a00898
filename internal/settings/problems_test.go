package settings

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// A repository whose settings file does not parse shows each problem
// (line, key, what to write instead) on its page and on the status page,
// to those who can see the repository only, until the problem is cleared.
func TestBrokenSettingsFileShown(t *testing.T) {
	t.Parallel()
	tb := setup(t, true)
	ctx := context.Background()
	tb.mirror(t, aliceInst, tb.aliceRepoID, "alice", "proj")
	p := &store.ConfigProblem{InstallationID: aliceInst, GitHubRepoID: tb.aliceRepoID, Repo: "alice/proj",
		CommitSHA: "0123456789abcdef0123456789abcdef01234567",
		Errors:    []store.ConfigError{{Line: 2, Key: "direction", Message: `want push (GitHub → Gitee), pull (Gitee → GitHub) or both (two-way), got "sideways"`}}}
	if err := tb.store.SetConfigProblem(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := tb.store.UpsertInstallation(ctx, store.Installation{ID: carolInst, Account: "carol", AccountType: "User"}); err != nil {
		t.Fatal(err)
	}
	carols := &store.ConfigProblem{InstallationID: carolInst, GitHubRepoID: tb.carolRepoID, Repo: "carol/secret",
		Errors: []store.ConfigError{{Message: "the file is empty"}}}
	if err := tb.store.SetConfigProblem(ctx, carols); err != nil {
		t.Fatal(err)
	}
	b := tb.browser(t)
	b.signIn("alice")
	repoPath := fmt.Sprintf("%s/installations/%d/repos/%d", Prefix, aliceInst, tb.aliceRepoID)
	wants := []string{"<code>.github/gitee-mirror.yml</code> in alice/proj is not valid", "0123456789", "<td>2</td>",
		"<code>direction</code>", "want push (GitHub → Gitee)", "got &#34;sideways&#34;", "last valid settings"}
	for name, path := range map[string]string{"mirror page": repoPath, "status page": Prefix + "/status"} {
		code, page := b.get(path)
		if code != http.StatusOK {
			t.Fatalf("%s: %d", name, code)
		}
		for _, want := range wants {
			if !strings.Contains(page, want) {
				t.Errorf("%s lacks %q:\n%.6000s", name, want, page)
			}
		}
		if strings.Contains(page, "carol/secret") || strings.Contains(page, "the file is empty") {
			t.Errorf("%s shows another installation's problem", name)
		}
	}
	if err := tb.store.ClearConfigProblem(ctx, tb.aliceRepoID); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{"mirror page": repoPath, "status page": Prefix + "/status"} {
		if _, page := b.get(path); strings.Contains(page, "is not valid") {
			t.Errorf("%s still shows the problem after a valid file was read", name)
		}
	}
}

// A running sync's progress, stored by whichever replica runs it, shows on
// the mirror's page and the status page; a finished sync shows none.
func TestProgressShown(t *testing.T) {
	t.Parallel()
	tb := setup(t, true)
	ctx := context.Background()
	m := tb.mirror(t, aliceInst, tb.aliceRepoID, "alice", "proj")
	run := &store.SyncRun{MirrorID: m.ID, Trigger: store.TriggerPush}
	if err := tb.store.StartRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	p := &store.SyncProgress{MirrorID: m.ID, Phase: "sending", Objects: 1200, Received: 12 << 20, Sent: 8 << 20,
		Remote: "Compressing objects: 45% (9/20)", StartedAt: time.Now().Add(-6 * time.Second)}
	if err := tb.store.SetProgress(ctx, p); err != nil {
		t.Fatal(err)
	}
	b := tb.browser(t)
	b.signIn("alice")
	repoPath := fmt.Sprintf("%s/installations/%d/repos/%d", Prefix, aliceInst, tb.aliceRepoID)
	for name, path := range map[string]string{"mirror page": repoPath, "status page": Prefix + "/status"} {
		_, page := b.get(path)
		for _, want := range []string{"sending 1200 objects: 12.0 MiB received, 8.0 MiB sent", "MiB/s", "Compressing objects: 45% (9/20)"} {
			if !strings.Contains(page, want) {
				t.Errorf("%s lacks %q:\n%.5000s", name, want, page)
			}
		}
	}
	run.Outcome, run.FinishedAt = store.OutcomeOK, time.Now()
	if _, err := tb.store.FinishRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{"mirror page": repoPath, "status page": Prefix + "/status"} {
		if _, page := b.get(path); strings.Contains(page, "MiB sent") {
			t.Errorf("%s shows progress of a finished sync", name)
		}
	}
}
