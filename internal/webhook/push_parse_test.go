package webhook_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-github/v62/github"

	"github.com/gitee-mirror/gitee-mirror/internal/repoconfig"
	"github.com/gitee-mirror/gitee-mirror/internal/webhook"
)

// fullPushPayload is a push payload as GitHub sends one: the repository
// with its URLs and counters, the pusher, the sender, the installation, and
// n commits with their authors and files.
func fullPushPayload(ref, defaultBranch string, n int) map[string]any {
	p := pushPayload(ref, defaultBranch)
	repo := p["repository"].(map[string]any)
	for _, k := range []string{"html_url", "url", "git_url", "ssh_url", "clone_url", "svn_url", "homepage", "forks_url",
		"keys_url", "collaborators_url", "teams_url", "hooks_url", "issue_events_url", "events_url", "assignees_url",
		"branches_url", "tags_url", "blobs_url", "git_tags_url", "git_refs_url", "trees_url", "statuses_url",
		"languages_url", "stargazers_url", "contributors_url", "subscribers_url", "subscription_url", "commits_url",
		"git_commits_url", "comments_url", "issue_comment_url", "contents_url", "compare_url", "merges_url",
		"archive_url", "downloads_url", "issues_url", "pulls_url", "milestones_url", "notifications_url", "labels_url",
		"releases_url", "deployments_url"} {
		repo[k] = "https://api.github.com/repos/octo-org/repo/" + k + "{/number}"
	}
	for _, k := range []string{"size", "stargazers_count", "watchers_count", "forks_count", "open_issues_count", "forks", "open_issues", "watchers", "stargazers"} {
		repo[k] = 42
	}
	for _, k := range []string{"private", "fork", "has_issues", "has_projects", "has_downloads", "has_wiki", "has_pages", "archived", "disabled"} {
		repo[k] = false
	}
	repo["description"], repo["language"], repo["visibility"], repo["topics"] = "a service", "Go", "public", []string{"a", "b"}
	repo["license"] = map[string]any{"key": "mit", "name": "MIT License", "spdx_id": "MIT", "url": "https://api.github.com/licenses/mit"}
	repo["master_branch"] = defaultBranch
	account := map[string]any{"login": "octo-dev", "id": 7, "node_id": "MDQ6VXNlcjc=", "avatar_url": "https://avatars.githubusercontent.com/u/7",
		"url": "https://api.github.com/users/octo-dev", "html_url": "https://github.com/octo-dev", "type": "User", "site_admin": false}
	p["sender"] = account
	p["pusher"] = map[string]any{"name": "octo-dev", "email": "dev@example.com"}
	p["compare"] = "https://github.com/octo-org/repo/compare/111111111111...222222222222"
	p["base_ref"] = nil
	var cs []map[string]any
	for i := range n {
		person := map[string]any{"name": "Dev", "email": "dev@example.com", "username": "octo-dev"}
		cs = append(cs, map[string]any{
			"id": fmt.Sprintf("%040d", i), "tree_id": fmt.Sprintf("%040d", i+1), "distinct": true,
			"message": "change " + strings.Repeat("x", 60), "timestamp": "2026-12-07T07:00:00Z",
			"url": fmt.Sprintf("https://github.com/octo-org/repo/commit/%040d", i), "author": person, "committer": person,
			"added": []string{"a.go"}, "removed": []string{}, "modified": []string{"README.md", "b.go"},
		})
	}
	p["commits"] = cs
	p["head_commit"] = cs[len(cs)-1]
	return p
}

// Parse reads a push as go-github's PushEvent would (the reference: what
// the App read before it decoded only what it uses), for pushes of every
// kind.
func TestPushParseAgreesWithGoGitHub(t *testing.T) {
	t.Parallel()
	type variant struct {
		name string
		edit func(p map[string]any)
	}
	variants := []variant{
		{"branch pushed", func(map[string]any) {}},
		{"default branch", func(p map[string]any) { p["ref"] = "refs/heads/main" }},
		{"config changed", func(p map[string]any) {
			p["ref"] = "refs/heads/main"
			p["commits"] = commits(map[string][]string{"modified": {repoconfig.Path}})
		}},
		{"config removed", func(p map[string]any) {
			p["ref"] = "refs/heads/main"
			p["commits"] = commits(map[string][]string{"removed": {repoconfig.Path}})
		}},
		{"created", func(p map[string]any) { p["ref"], p["created"] = "refs/heads/main", true }},
		{"deleted", func(p map[string]any) { p["ref"], p["deleted"] = "refs/heads/main", true }},
		{"forced", func(p map[string]any) { p["ref"], p["forced"] = "refs/heads/main", true }},
		{"tag", func(p map[string]any) { p["ref"], p["created"] = "refs/tags/v1", true }},
		{"no commits", func(p map[string]any) { p["ref"], p["commits"] = "refs/heads/main", []any{} }},
		{"no full name", func(p map[string]any) { delete(p["repository"].(map[string]any), "full_name") }},
		{"no installation", func(p map[string]any) { p["ref"] = "refs/heads/main"; delete(p, "installation") }},
		{"no default branch", func(p map[string]any) { delete(p["repository"].(map[string]any), "default_branch") }},
	}
	h := &webhook.Push{}
	for _, v := range variants {
		p := fullPushPayload("refs/heads/feature", "main", 20)
		v.edit(p)
		body, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		task, err := h.Parse("push", body)
		if err != nil {
			t.Fatalf("%s: %v", v.name, err)
		}
		var ev github.PushEvent
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Fatalf("%s: go-github: %v", v.name, err)
		}
		owner, name := ev.GetRepo().GetOwner().GetLogin(), ev.GetRepo().GetName()
		if o, n, ok := strings.Cut(ev.GetRepo().GetFullName(), "/"); ok {
			owner, name = o, n
		}
		if task.Repo != owner+"/"+name || task.InstallationID != ev.GetInstallation().GetID() {
			t.Errorf("%s: task for %s, installation %d; go-github reads %s/%s, %d", v.name, task.Repo, task.InstallationID, owner, name, ev.GetInstallation().GetID())
		}
		if !strings.HasPrefix(task.Key, fmt.Sprintf("push:%d:%d:", ev.GetInstallation().GetID(), ev.GetRepo().GetID())) {
			t.Errorf("%s: key %q, not of installation %d, repository %d", v.name, task.Key, ev.GetInstallation().GetID(), ev.GetRepo().GetID())
		}
		wantConfig := ev.GetInstallation().GetID() != 0 && ev.GetRef() == "refs/heads/main" && !ev.GetDeleted() &&
			(ev.GetForced() || ev.GetCreated() || len(ev.Commits) == 0 || v.name == "config changed" || v.name == "config removed")
		if got := strings.HasSuffix(task.Key, ":true"); got != wantConfig {
			t.Errorf("%s: config re-read = %v, want %v (key %q)", v.name, got, wantConfig, task.Key)
		}
		checkRecord(t, v.name, h, body, task)
	}
	for _, bad := range []string{`{`, `{"ref": 5}`, `{"ref": "refs/heads/x"}`, `{"ref": "refs/heads/x", "repository": "r"}`, `{"repository": {"id": 1}}`} {
		if _, err := h.Parse("push", []byte(bad)); err == nil {
			t.Errorf("Parse(%s) took it", bad)
		}
	}
}

// Parse decodes what it uses and skips the rest: go-github's whole event
// took about five times the allocations for this payload (800) and was a quarter of the
// App's CPU at 1,000 deliveries a second (issue 13).
func TestPushParseIsLean(t *testing.T) {
	body, err := json.Marshal(fullPushPayload("refs/heads/feature", "main", 20))
	if err != nil {
		t.Fatal(err)
	}
	h := &webhook.Push{}
	allocs := testing.AllocsPerRun(50, func() {
		if _, err := h.Parse("push", body); err != nil {
			t.Fatal(err)
		}
	})
	full := testing.AllocsPerRun(50, func() {
		var ev github.PushEvent
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("%d bytes: Parse %.0f allocations, go-github's PushEvent %.0f", len(body), allocs, full)
	if allocs > full/4 {
		t.Errorf("Parse made %.0f allocations for a %d-byte push, go-github's event %.0f: it decodes more than it uses", allocs, len(body), full)
	}
}

// checkRecord: the inbox's record of a push is a small fraction of the
// payload and parses back to the same task, the config decision included
// though the commit list is gone; a record's record is itself.
func checkRecord(t *testing.T, name string, h webhook.EventHandler, body []byte, task *webhook.Task) {
	t.Helper()
	if task.Record == nil {
		t.Fatalf("%s: no record", name)
	}
	if len(task.Record) > 512 || len(task.Record) > len(body)/8 {
		t.Errorf("%s: record of %d bytes for a %d-byte payload: %s", name, len(task.Record), len(body), task.Record)
	}
	again, err := h.Parse("push", task.Record)
	if err != nil {
		t.Fatalf("%s: the record does not parse: %v (%s)", name, err, task.Record)
	}
	if again.Action != task.Action || again.InstallationID != task.InstallationID || again.Repo != task.Repo || again.Key != task.Key {
		t.Errorf("%s: the record parses to %+v, the payload to %+v", name, again, task)
	}
	if string(again.Record) != string(task.Record) {
		t.Errorf("%s: a record's record differs:\n%s\n%s", name, again.Record, task.Record)
	}
}
