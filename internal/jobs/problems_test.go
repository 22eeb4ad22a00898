package jobs

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/repoconfig"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// A broken settings file keeps the old mirror, but it is not silent: the
// commit that has it gets a failing check run naming each problem's line,
// key and what to write instead (also as annotations on those lines), the
// problems are kept in the store for the status page, the sync on that
// commit says it used the last valid settings, and a valid file clears it
// all with a passing check run.
func TestDefaultRunner_BrokenSettingsFileIsReported(t *testing.T) {
	t.Parallel()
	b := setupRunner(t)
	ctx := context.Background()
	b.push(t, "main", map[string]string{"README": "hello"})
	apply := func() error { return b.runner.ApplyConfig(ctx, installationID, b.repoID, ghOwner, ghName) }
	b.setFile(t, repoconfig.Path, "target: acme/widget\n")
	if err := apply(); err != nil {
		t.Fatalf("ApplyConfig: %v", err)
	}
	if runs := settingsChecks(b); len(runs) != 0 {
		t.Errorf("a valid file without earlier problems got settings check runs: %+v", runs)
	}

	b.setFile(t, repoconfig.Path, "target: acme/widget\ndirection: sideways\nbrnaches: main\n")
	broken := b.f.Refs(ghOwner, ghName)["refs/heads/main"]
	if err := apply(); err == nil {
		t.Fatal("ApplyConfig of a broken file succeeded")
	}
	if got := b.targets(t); len(got) != 1 || got[0] != "acme/widget file push" {
		t.Errorf("mirrors = %q, want the old one kept", got)
	}
	runs := settingsChecks(b)
	if len(runs) != 1 {
		t.Fatalf("settings check runs = %+v, want one", runs)
	}
	cr := runs[0]
	if cr.HeadSHA != broken || cr.Conclusion != forge.ConclusionFailure {
		t.Errorf("check run on %s, %s; want failure on %s", cr.HeadSHA, cr.Conclusion, broken)
	}
	for _, want := range []string{"| 2 | `direction` |", "want push", `got "sideways"`, "| 3 | `brnaches` |", "allowed are target, direction, branches"} {
		if !strings.Contains(cr.Summary, want) {
			t.Errorf("check run summary lacks %q:\n%s", want, cr.Summary)
		}
	}
	if len(cr.Annotations) != 2 || cr.Annotations[0].Path != repoconfig.Path || cr.Annotations[0].StartLine != 2 ||
		cr.Annotations[1].StartLine != 3 || cr.Annotations[0].Level != "failure" || cr.Annotations[1].Title != "brnaches" {
		t.Errorf("annotations = %+v, want lines 2 and 3 of %s", cr.Annotations, repoconfig.Path)
	}
	p, err := b.st.ConfigProblem(ctx, b.repoID)
	if err != nil || p.CommitSHA != broken || len(p.Errors) != 2 || p.Errors[0].Line != 2 || p.Errors[0].Key != "direction" {
		t.Fatalf("stored problem = %+v, %v", p, err)
	}

	// The sync of that commit still runs with the old settings, and says so.
	ms, err := b.st.ListMirrors(ctx, store.MirrorFilter{GitHubRepoID: b.repoID})
	if err != nil || len(ms) != 1 {
		t.Fatalf("mirrors = %v, %v", ms, err)
	}
	if _, err := b.runner.Sync(ctx, ms[0]); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	var syncRun *forgetest.CheckRun
	for _, r := range b.f.CheckRuns(ghOwner, ghName) {
		if r.Name == forge.CheckRunName && r.HeadSHA == broken {
			syncRun = &r
		}
	}
	if syncRun == nil || !strings.Contains(syncRun.Summary, "is not valid") || !strings.Contains(syncRun.Summary, "line 2, direction: want push") {
		t.Errorf("sync check run = %+v, want it to name the broken file's problems", syncRun)
	}

	b.setFile(t, repoconfig.Path, "target: acme/widget\ndirection: push\n")
	fixed := b.f.Refs(ghOwner, ghName)["refs/heads/main"]
	if err := apply(); err != nil {
		t.Fatalf("ApplyConfig of the fixed file: %v", err)
	}
	if _, err := b.st.ConfigProblem(ctx, b.repoID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("problem after the fix: %v, want none", err)
	}
	runs = settingsChecks(b)
	if len(runs) != 2 || runs[1].HeadSHA != fixed || runs[1].Conclusion != forge.ConclusionSuccess {
		t.Errorf("settings check runs = %+v, want a success on %s", runs, fixed)
	}
}

func settingsChecks(b *runnerBundle) []forgetest.CheckRun {
	var out []forgetest.CheckRun
	for _, r := range b.f.CheckRuns(ghOwner, ghName) {
		if r.Name == SettingsCheckName {
			out = append(out, r)
		}
	}
	return out
}
