package main

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/githubapp"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/gitee-mirror/gitee-mirror/internal/webhook"
)

// TestREADMEPermissions: the README's "create a GitHub App by hand" step
// lists exactly the permissions and events the App registers
// (githubapp.Permissions, githubapp.Events), and every GitHub event the App
// handles is one it subscribes to.
func TestREADMEPermissions(t *testing.T) {
	t.Parallel()
	readme := strings.Join(strings.Fields(readRepoFile(t, "README.md")), " ")
	m := regexp.MustCompile(`Create a GitHub App \(permissions: ([^;]+); events: ([^)]+)\)`).FindStringSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no \"Create a GitHub App (permissions: …; events: …)\" step")
	}
	var perms []string
	for _, p := range strings.Split(m[1], ", ") {
		f := strings.Fields(p) // "administration write if it should …"
		if len(f) < 2 || githubapp.Permissions[f[0]] != f[1] {
			t.Errorf("README lists permission %q, the App asks for %s %q", p, f[0], githubapp.Permissions[f[0]])
		}
		perms = append(perms, f[0])
	}
	for name := range githubapp.Permissions {
		if !slices.Contains(perms, name) {
			t.Errorf("README does not list the permission %s", name)
		}
	}
	events := strings.Split(m[2], ", ")
	slices.Sort(events)
	want := slices.Clone(githubapp.Events)
	slices.Sort(want)
	if !slices.Equal(events, want) {
		t.Errorf("README lists the events %v, the App subscribes to %v", events, want)
	}
	for _, h := range webhook.DefaultHandlers(store.Store(nil), nil) {
		for _, ev := range h.Events() {
			if !slices.Contains(githubapp.Events, ev) {
				t.Errorf("the App handles %q but does not subscribe to it (githubapp.Events)", ev)
			}
		}
	}
}
