package jobs

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/repoconfig"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// Every token the App mints names the one repository and the permissions
// of one kind of call: reading the settings file (contents read), pushing
// (contents write), check runs (checks write). The forge fails the test on
// any wider request; this test also pins what each call asks for.
func TestDefaultRunner_TokensNarrowedPerCall(t *testing.T) {
	t.Parallel()
	b := setupRunner(t)
	ctx := context.Background()
	b.push(t, "main", map[string]string{"README": "hello"})
	b.setFile(t, repoconfig.Path, "target: acme/widget\n")
	if err := b.runner.ApplyConfig(ctx, installationID, b.repoID, ghOwner, ghName); err != nil {
		t.Fatalf("ApplyConfig: %v", err)
	}
	ms, err := b.st.ListMirrors(ctx, store.MirrorFilter{GitHubRepoID: b.repoID})
	if err != nil || len(ms) != 1 {
		t.Fatalf("mirrors = %v, %v", ms, err)
	}
	if _, err := b.runner.Sync(ctx, ms[0]); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	var asked []string
	for _, r := range b.f.TokenRequests() {
		if r.Refused != "" || len(r.Repositories) != 0 || !slices.Equal(r.RepositoryIDs, []int64{b.repoID}) {
			t.Errorf("token request %+v: want repository id %d alone", r, b.repoID)
		}
		asked = append(asked, showScope(r.Permissions))
	}
	slices.Sort(asked)
	if want := []string{"checks:write", "contents:read", "contents:write"}; !slices.Equal(asked, want) {
		t.Errorf("token permissions asked = %q, want %q (one token per kind of call)", asked, want)
	}
	if len(b.f.CheckRuns(ghOwner, ghName)) != 1 {
		t.Errorf("check runs = %+v, want one", b.f.CheckRuns(ghOwner, ghName))
	}
}

func showScope(p forgetest.Permissions) string {
	var out string
	for _, k := range slices.Sorted(maps.Keys(p)) {
		if out != "" {
			out += ","
		}
		out += k + ":" + p[k]
	}
	return out
}
