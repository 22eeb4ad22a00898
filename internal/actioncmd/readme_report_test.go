package actioncmd

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// TestREADMENamesAccountReportKeys: the README's paragraph on the account
// report names every key of the report and of each repository in it.
func TestREADMENamesAccountReportKeys(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, para, ok := strings.Cut(string(data), "The account report has ")
	if !ok {
		t.Fatal(`README.md has no paragraph starting "The account report has "`)
	}
	para, _, _ = strings.Cut(para, "\n\n")
	// Every optional field set, so that omitempty keeps none out.
	repo := repoResult{SourceURL: "u", DestinationURL: "u", Created: true, Note: "n", Error: &reportError{},
		Releases: &releasesReport{}, Result: &mirror.Result{Backups: []string{"b"}, SourceEmpty: true,
			SourceBackups: []string{"b"}, LFS: &mirror.LFSReport{}}}
	rep := accountReport{PlannedRepos: 1, Error: &reportError{}, Repos: []repoResult{repo}}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		t.Fatal(err)
	}
	var repos []map[string]json.RawMessage
	if err := json.Unmarshal(top["repositories"], &repos); err != nil || len(repos) != 1 {
		t.Fatalf("repositories: %v, %s", err, top["repositories"])
	}
	for what, keys := range map[string]map[string]json.RawMessage{"report": top, "repository": repos[0]} {
		for k := range keys {
			if !strings.Contains(para, "`"+k+"`") {
				t.Errorf("README.md's account report paragraph does not name the %s key %q", what, k)
			}
		}
	}
}
