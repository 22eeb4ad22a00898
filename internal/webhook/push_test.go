package webhook_test

import (
	"maps"
	"net/http"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/repoconfig"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// pushPayload is a push to octo-org/repo (testRepoID) in testInst with one
// commit touching README.md.
func pushPayload(ref, defaultBranch string) map[string]any {
	return map[string]any{
		"ref":     ref,
		"before":  "1111111111111111111111111111111111111111",
		"after":   "2222222222222222222222222222222222222222",
		"created": false, "deleted": false, "forced": false,
		"commits": []map[string]any{{"id": "2222222222222222222222222222222222222222", "modified": []string{"README.md"}}},
		"repository": map[string]any{
			"id": testRepoID, "name": "repo", "full_name": "octo-org/repo",
			"owner":          map[string]any{"login": "octo-org", "name": "octo-org"},
			"default_branch": defaultBranch, "created_at": 1700000000, "pushed_at": 1700000001,
		},
		"installation": map[string]any{"id": testInst},
	}
}

func commits(files ...map[string][]string) []map[string]any {
	var cs []map[string]any
	for _, f := range files {
		c := map[string]any{"id": "3333333333333333333333333333333333333333"}
		for k, v := range f {
			c[k] = v
		}
		cs = append(cs, c)
	}
	return cs
}

func TestPushRequestsSyncOfPushMirrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	push := b.mirror(t, testRepoID, "repo", store.AToB, "")
	b.mirror(t, testRepoID, "repo-back", store.BToA, "") // fed from Gitee
	b.mirror(t, testRepoID+1, "other", store.AToB, "")   // another repository

	rec := b.github(t, "push", "push-1", pushPayload("refs/heads/feature", "main"))
	wantCode(t, rec, http.StatusOK)
	wantBody(t, rec, "accepted")
	got := b.queue.Syncs()
	if want := (syncReq{push.ID, store.TriggerPush, true}); len(got) != 1 || got[0] != want {
		t.Errorf("syncs = %v, want [%v]", got, want)
	}
	if c := b.queue.Configs(); len(c) != 0 {
		t.Errorf("config re-read for a push to another branch: %v", c)
	}
	if n := b.counted(t, "github", "push", "accepted"); n != 1 {
		t.Errorf("accepted count = %v", n)
	}
}

func TestPushKinds(t *testing.T) {
	t.Parallel()
	cfg := repoconfig.Path
	tests := map[string]struct {
		ref        string
		edit       func(p map[string]any)
		wantSync   bool
		wantConfig bool
	}{
		"branch":                    {ref: "refs/heads/feature", wantSync: true},
		"default branch, no config": {ref: "refs/heads/main", wantSync: true},
		"tag":                       {ref: "refs/tags/v1.0.0", edit: func(p map[string]any) { p["created"] = true; p["commits"] = nil }, wantSync: true},
		"tag deleted":               {ref: "refs/tags/v1.0.0", edit: func(p map[string]any) { p["deleted"] = true; p["commits"] = nil }, wantSync: true},
		"branch created":            {ref: "refs/heads/new", edit: func(p map[string]any) { p["created"] = true }, wantSync: true},
		"branch deleted":            {ref: "refs/heads/old", edit: func(p map[string]any) { p["deleted"] = true; p["commits"] = nil }, wantSync: true},
		"default branch deleted":    {ref: "refs/heads/main", edit: func(p map[string]any) { p["deleted"] = true; p["commits"] = nil }, wantSync: true},
		"config added": {ref: "refs/heads/main", wantSync: true, wantConfig: true,
			edit: func(p map[string]any) { p["commits"] = commits(nil, map[string][]string{"added": {cfg}}) }},
		"config modified": {ref: "refs/heads/main", wantSync: true, wantConfig: true,
			edit: func(p map[string]any) { p["commits"] = commits(map[string][]string{"modified": {"a", cfg}}) }},
		"config removed": {ref: "refs/heads/main", wantSync: true, wantConfig: true,
			edit: func(p map[string]any) { p["commits"] = commits(map[string][]string{"removed": {cfg}}) }},
		"config on another branch": {ref: "refs/heads/feature", wantSync: true,
			edit: func(p map[string]any) { p["commits"] = commits(map[string][]string{"modified": {cfg}}) }},
		"truncated commit list": {ref: "refs/heads/main", wantSync: true, wantConfig: true,
			edit: func(p map[string]any) {
				cs := make([]map[string]any, 2048)
				for i := range cs {
					cs[i] = map[string]any{"id": "4444444444444444444444444444444444444444", "modified": []string{"x"}}
				}
				p["commits"] = cs
			}},
		"force push to default": {ref: "refs/heads/main", wantSync: true, wantConfig: true,
			edit: func(p map[string]any) { p["forced"] = true }},
		"similar path": {ref: "refs/heads/main", wantSync: true,
			edit: func(p map[string]any) {
				p["commits"] = commits(map[string][]string{"modified": {"docs/" + cfg, ".github/gitee-mirror.yaml"}})
			}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			m := b.mirror(t, testRepoID, "repo", store.AToB, "")
			p := pushPayload(tc.ref, "main")
			if tc.edit != nil {
				tc.edit(p)
			}
			wantCode(t, b.github(t, "push", "kind-1", p), http.StatusOK)
			if got := len(b.queue.Syncs()) == 1 && b.queue.Syncs()[0].MirrorID == m.ID; got != tc.wantSync {
				t.Errorf("sync requested = %v, want %v (%v)", got, tc.wantSync, b.queue.Syncs())
			}
			configs := b.queue.Configs()
			if got := len(configs) == 1; got != tc.wantConfig {
				t.Fatalf("config re-read = %v, want %v (%v)", got, tc.wantConfig, configs)
			}
			if tc.wantConfig {
				if want := (configReq{testInst, testRepoID, "octo-org", "repo"}); configs[0] != want {
					t.Errorf("ApplyConfig%v, want %v", configs[0], want)
				}
			}
		})
	}
}

func TestPushConfigToRepoWithoutMirror(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := pushPayload("refs/heads/trunk", "trunk")
	p["commits"] = commits(map[string][]string{"added": {repoconfig.Path}})
	wantCode(t, b.github(t, "push", "new-1", p), http.StatusOK)
	if got, want := b.queue.Configs(), (configReq{testInst, testRepoID, "octo-org", "repo"}); len(got) != 1 || got[0] != want {
		t.Errorf("configs = %v, want [%v]", got, want)
	}
	if got := b.queue.Syncs(); len(got) != 0 {
		t.Errorf("syncs = %v", got)
	}
}

// A branch push passes its new commit on to the sync it asks for
// (mirror.Options.Hints), through the inbox's record; a tag push and a
// deletion pass nothing.
func TestPushPassesItsCommitAsAHint(t *testing.T) {
	t.Parallel()
	after := "2222222222222222222222222222222222222222"
	tests := map[string]struct {
		edit func(p map[string]any)
		want map[string]string
	}{
		"branch":   {func(map[string]any) {}, map[string]string{"refs/heads/feature": after}},
		"tag":      {func(p map[string]any) { p["ref"] = "refs/tags/v1" }, nil},
		"deletion": {func(p map[string]any) { p["deleted"], p["after"] = true, "0000000000000000000000000000000000000000" }, nil},
		"no after": {func(p map[string]any) { delete(p, "after") }, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			m := b.mirror(t, testRepoID, "repo", store.AToB, "")
			p := pushPayload("refs/heads/feature", "main")
			tc.edit(p)
			wantCode(t, b.github(t, "push", "hint-1", p), http.StatusOK)
			if got := b.queue.Syncs(); len(got) != 1 || got[0].MirrorID != m.ID {
				t.Fatalf("syncs = %v", got)
			}
			if got := b.queue.Hints(m.ID); !maps.Equal(got, tc.want) {
				t.Errorf("hints = %v, want %v", got, tc.want)
			}
		})
	}
}
