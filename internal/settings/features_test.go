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
	"github.com/gitee-mirror/gitee-mirror/internal/release"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// TestReleasesAndLFSSettings: the mirror form's releases and LFS boxes are
// saved, and the history shows each release and asset a sync touched.
func TestReleasesAndLFSSettings(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		form     url.Values
		releases bool
		lfs      mirror.LFSMode
	}{
		"none":         {url.Values{}, false, mirror.LFSOff},
		"releases":     {url.Values{"releases": {"on"}}, true, mirror.LFSOff},
		"lfs":          {url.Values{"lfs": {"on"}}, false, mirror.LFSCopy},
		"lfs required": {url.Values{"lfs": {"on"}, "lfs_required": {"on"}, "releases": {"on"}}, true, mirror.LFSRequired},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tb := setup(t, true)
			m := tb.mirror(t, aliceInst, tb.aliceRepoID, "alice", "proj")
			b := tb.browser(t)
			b.signIn("alice")
			repoPath := fmt.Sprintf("%s/installations/%d/repos/%d", Prefix, aliceInst, tb.aliceRepoID)
			form := url.Values{"gitee_owner": {"gitee-alice"}, "gitee_name": {"proj"}, "direction": {"push"}}
			for k, v := range tc.form {
				form[k] = v
			}
			if code, body := b.post(fmt.Sprintf("%s/mirrors/%d/save", repoPath, m.ID), form); code != http.StatusOK {
				t.Fatalf("save: %d\n%.2000s", code, body)
			}
			got, err := tb.store.GetMirror(context.Background(), m.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Releases != tc.releases || got.LFS != tc.lfs {
				t.Errorf("saved releases %v, lfs %q; want %v, %q", got.Releases, got.LFS, tc.releases, tc.lfs)
			}
			_, page := b.get(repoPath)
			for box, on := range map[string]bool{"releases": tc.releases, "lfs": tc.lfs != mirror.LFSOff, "lfs_required": tc.lfs == mirror.LFSRequired} {
				if checked := strings.Contains(page, `name="`+box+`" checked`); checked != on {
					t.Errorf("box %s checked %v, want %v", box, checked, on)
				}
			}
		})
	}
}

func TestReleaseHistory(t *testing.T) {
	t.Parallel()
	tb := setup(t, true)
	ctx := context.Background()
	m := tb.mirror(t, aliceInst, tb.aliceRepoID, "alice", "proj")
	run := &store.SyncRun{MirrorID: m.ID, Trigger: store.TriggerRelease, StartedAt: time.Now()}
	if err := tb.store.StartRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	run.Outcome = store.OutcomeOK
	run.Releases = &release.Result{Releases: []release.ReleaseResult{
		{Tag: "v2.0.0", Outcome: release.Created, Assets: []release.AssetResult{
			{Name: "tool.tar.gz", Size: 2048, Outcome: release.Created},
			{Name: "huge.iso", Size: 300 << 20, Outcome: release.Skipped, Message: "over the target's limit"}}},
		{Tag: "v1.0.0", Outcome: release.Unchanged},
	}}
	if _, err := tb.store.FinishRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	b := tb.browser(t)
	b.signIn("alice")
	_, page := b.get(fmt.Sprintf("%s/installations/%d/repos/%d", Prefix, aliceInst, tb.aliceRepoID))
	for _, want := range []string{"release <code>v2.0.0</code> created", "asset <code>tool.tar.gz</code> (2048 bytes) created",
		"asset <code>huge.iso</code> (314572800 bytes) skipped (over the target&#39;s limit)"} {
		if !strings.Contains(page, want) {
			t.Errorf("history lacks %q", want)
		}
	}
	if strings.Contains(page, "v1.0.0") {
		t.Errorf("history lists an unchanged release")
	}
}
