package jobs

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/repoconfig"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// targets lists the repository's mirrors as "target source direction".
func (b *runnerBundle) targets(t *testing.T) []string {
	t.Helper()
	ms, err := b.st.ListMirrors(context.Background(), store.MirrorFilter{GitHubRepoID: b.repoID})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		out = append(out, m.B.FullName()+" "+m.ConfigSource+" "+m.Direction.Word())
	}
	slices.Sort(out)
	return out
}

func TestDefaultRunner_ApplyConfig(t *testing.T) {
	t.Parallel()
	b := setupRunner(t)
	ctx := context.Background()
	b.push(t, "main", map[string]string{"README": "hello"})
	apply := func() error { return b.runner.ApplyConfig(ctx, installationID, b.repoID, ghOwner, ghName) }
	want := func(targets ...string) {
		t.Helper()
		if got := b.targets(t); !slices.Equal(got, targets) {
			t.Errorf("mirrors = %q, want %q", got, targets)
		}
	}

	settings := b.mirror(t, "widget", store.AToB)
	if err := apply(); err != nil {
		t.Fatalf("ApplyConfig without a file: %v", err)
	}
	want("acme/widget settings push")

	b.setFile(t, repoconfig.Path, "mirrors:\n  - target: gitee/acme/widget\n    tags: false\n    force: true\n  - target: acme/upstream\n    direction: pull\n")
	if err := apply(); err != nil {
		t.Fatalf("ApplyConfig: %v", err)
	}
	want("acme/upstream file pull", "acme/widget file push")
	got, err := b.st.GetMirror(ctx, settings.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.NoTags || !got.Force || got.ConfigSHA == "" {
		t.Errorf("taken-over mirror = %+v, want the file's settings and sha", got)
	}

	// An invalid file changes nothing.
	b.setFile(t, repoconfig.Path, "target: acme/widget\ndirection: sideways\n")
	if err := apply(); failure.ClassOf(err) != failure.Invalid || !strings.Contains(err.Error(), "line 2: direction") {
		t.Errorf("ApplyConfig with a bad file = %v, want invalid naming line 2 and the field", err)
	}
	want("acme/upstream file pull", "acme/widget file push")

	// An entry removed from the file removes its mirror.
	b.setFile(t, repoconfig.Path, "target: acme/widget\n")
	if err := apply(); err != nil {
		t.Fatalf("ApplyConfig: %v", err)
	}
	want("acme/widget file push")

	// The file removed: file mirrors go, settings mirrors stay.
	other := b.mirror(t, "other", store.AToB)
	b.setFile(t, repoconfig.Path, "")
	if err := apply(); err != nil {
		t.Fatalf("ApplyConfig: %v", err)
	}
	want("acme/other settings push")
	if _, err := b.st.GetMirror(ctx, other.ID); err != nil {
		t.Errorf("settings mirror: %v", err)
	}
}

// TestQueueEndToEnd runs the real Runner from the queue: a config file
// creates a mirror, which syncs (creating the Gitee repository); a later
// push lands.
func TestQueueEndToEnd(t *testing.T) {
	t.Parallel()
	rb := setupRunner(t)
	ctx := context.Background()
	b := &testBundle{st: rb.st}
	b.start(t, rb.runner, nil)
	rb.push(t, "main", map[string]string{"README": "hello"})
	rb.setFile(t, repoconfig.Path, "target: acme/widget\n")

	if err := b.q.ApplyConfig(ctx, installationID, rb.repoID, ghOwner, ghName); err != nil {
		t.Fatalf("ApplyConfig: %v", err)
	}
	ev := b.waitFinal(t)
	ms, err := rb.st.ListMirrors(ctx, store.MirrorFilter{GitHubRepoID: rb.repoID})
	if err != nil || len(ms) != 1 {
		t.Fatalf("mirrors = %v, %v; want one from the file", ms, err)
	}
	m := ms[0]
	if ev.Job.Kind != (SyncArgs{}).Kind() {
		t.Fatalf("job = %s, want a sync", ev.Job.Kind)
	}
	if rs := b.runs(t, m.ID); len(rs) != 1 || rs[0].Trigger != store.TriggerConfig || rs[0].Outcome != store.OutcomeOK {
		t.Errorf("runs = %+v, want one ok config run", rs)
	}

	sha := rb.push(t, "main", map[string]string{"README": "hello again"})
	b.request(t, m.ID, store.TriggerPush, true)
	b.waitFinal(t)
	if got := rb.f.Refs(giteeOrg, "widget")["refs/heads/main"]; got != sha {
		t.Errorf("Gitee main = %q, want the pushed %q", got, sha)
	}
	if got := b.get(t, m.ID).Status; got != store.StatusInSync {
		t.Errorf("status = %s, want in sync", got)
	}
}

// A pull mirror from the settings file gets its Gitee webhook registered by
// its first sync (once, even when the hook's id was not kept), and
// removing the mirror from the file deletes the hook.
func TestDefaultRunner_PullMirrorHook(t *testing.T) {
	t.Parallel()
	b := setupRunner(t)
	ctx := context.Background()
	b.runner.cfg.BaseURL = "https://app.example"
	b.push(t, "main", map[string]string{"README": "hello"})
	b.giteeUpstream(t, map[string]string{"a": "b"})
	b.setFile(t, repoconfig.Path, "target: acme/upstream\ndirection: pull\n")
	if err := b.runner.ApplyConfig(ctx, installationID, b.repoID, ghOwner, ghName); err != nil {
		t.Fatalf("ApplyConfig: %v", err)
	}
	ms, err := b.st.ListMirrors(ctx, store.MirrorFilter{GitHubRepoID: b.repoID})
	if err != nil || len(ms) != 1 {
		t.Fatalf("mirrors = %v, %v", ms, err)
	}
	m := ms[0]
	sync := func() {
		t.Helper()
		cur, err := b.st.GetMirror(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.runner.Sync(ctx, cur); err != nil {
			t.Fatalf("Sync: %v", err)
		}
	}
	wantHook := func() forgetest.GiteeHook {
		t.Helper()
		hooks := b.f.GiteeHooks(giteeOrg, "upstream")
		if len(hooks) != 1 {
			t.Fatalf("Gitee hooks = %+v, want one", hooks)
		}
		h := hooks[0]
		got, err := b.st.GetMirror(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if h.URL != "https://app.example/webhooks/gitee/"+m.HookID || h.EncryptionType != 1 || !h.PushEvents || !h.TagPushEvents ||
			h.Password == "" || h.Password != got.HookSecret || got.HookRemoteID != h.ID {
			t.Errorf("hook %+v, mirror hook id %d: want signature mode for push and tag pushes, with the mirror's secret", h, got.HookRemoteID)
		}
		return h
	}
	sync()
	first := wantHook()
	sync() // registered already: left alone
	if h := wantHook(); h.Password != first.Password {
		t.Error("a second sync changed the hook")
	}
	// The hook's id lost (say the store failed after Gitee answered): the
	// next sync finds the hook by its URL instead of adding a second.
	if err := b.st.SetMirrorHook(ctx, m.ID, first.Password, 0); err != nil {
		t.Fatal(err)
	}
	sync()
	if h := wantHook(); h.ID != first.ID {
		t.Errorf("hook id %d, want the same hook %d updated", h.ID, first.ID)
	}

	b.setFile(t, repoconfig.Path, "")
	if err := b.runner.ApplyConfig(ctx, installationID, b.repoID, ghOwner, ghName); err != nil {
		t.Fatalf("ApplyConfig: %v", err)
	}
	if hooks := b.f.GiteeHooks(giteeOrg, "upstream"); len(hooks) != 0 {
		t.Errorf("hooks after the mirror was removed: %+v", hooks)
	}
}

// Without a public URL there is nowhere to point a hook: none is made.
func TestDefaultRunner_NoHookWithoutURL(t *testing.T) {
	t.Parallel()
	b := setupRunner(t)
	b.giteeUpstream(t, map[string]string{"a": "b"})
	m := b.mirror(t, "upstream", store.BToA)
	if _, err := b.runner.Sync(context.Background(), m); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if hooks := b.f.GiteeHooks(giteeOrg, "upstream"); len(hooks) != 0 {
		t.Errorf("hooks = %+v, want none", hooks)
	}
}
