package forgetest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/gitee-mirror/gitee-mirror/internal/githubapp"
)

// errorSpy is a testing.TB that records Errorf instead of failing, so a
// test can see the forge fail the test it serves.
type errorSpy struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (s *errorSpy) Errorf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs = append(s.errs, fmt.Sprintf(format, args...))
}

func (s *errorSpy) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.errs
	s.errs = nil
	return out
}

// Every token request must name one repository and the permissions of one
// kind of call; anything wider fails the test and is answered 422.
func TestTokenRequestsMustBeNarrow(t *testing.T) {
	t.Parallel()
	spy := &errorSpy{TB: t}
	f := New(spy)
	f.AddOrg("acme")
	f.CreateRepo("acme", "one")
	f.CreateRepo("acme", "two")
	key := f.RegisterApp(testAppID, "mirror-app")
	perms := DefaultPermissions()
	perms["workflows"] = "write"
	perms["administration"] = "write"
	f.AddInstallation(testAppID, testInstallID, "acme", "acme/*")
	f.SetInstallationPermissions(testInstallID, perms)
	app, err := githubapp.NewAppTransport(testAppID, key, githubapp.AppOptions{APIURL: f.GitHubAPIURL(), RetryBase: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	p := func(kv ...string) *github.InstallationPermissions {
		out := &github.InstallationPermissions{}
		for i := 0; i < len(kv); i += 2 {
			v := github.String(kv[i+1])
			switch kv[i] {
			case "contents":
				out.Contents = v
			case "checks":
				out.Checks = v
			case "workflows":
				out.Workflows = v
			case "metadata":
				out.Metadata = v
			case "administration":
				out.Administration = v
			}
		}
		return out
	}
	tests := []struct {
		name string
		opts *github.InstallationTokenOptions
		want string // in the refusal; "" when allowed
	}{
		{"read the file", &github.InstallationTokenOptions{Repositories: []string{"one"}, Permissions: p("contents", "read")}, ""},
		{"check runs, by id", &github.InstallationTokenOptions{RepositoryIDs: []int64{f.repo("acme", "one").id}, Permissions: p("checks", "write")}, ""},
		{"push", &github.InstallationTokenOptions{Repositories: []string{"one"}, Permissions: p("contents", "write", "metadata", "read")}, ""},
		{"push with workflows", &github.InstallationTokenOptions{Repositories: []string{"one"}, Permissions: p("contents", "write", "workflows", "write")}, ""},
		{"no body", nil, "names no repository"},
		{"no repository", &github.InstallationTokenOptions{Permissions: p("contents", "read")}, "names no repository"},
		{"two repositories", &github.InstallationTokenOptions{Repositories: []string{"one", "two"}, Permissions: p("contents", "read")}, "names 2 repositories"},
		{"no permissions", &github.InstallationTokenOptions{Repositories: []string{"one"}}, "names no permissions"},
		{"two kinds of call", &github.InstallationTokenOptions{Repositories: []string{"one"}, Permissions: p("contents", "read", "checks", "write")}, "wider than any one call needs"},
		{"administration", &github.InstallationTokenOptions{Repositories: []string{"one"}, Permissions: p("administration", "write")}, "administration: write"},
	}
	for _, tt := range tests {
		tok, resp, err := app.Apps().Apps.CreateInstallationToken(context.Background(), testInstallID, tt.opts)
		errs := spy.take()
		if tt.want == "" {
			if err != nil || tok.GetToken() == "" || len(errs) != 0 {
				t.Errorf("%s: %v, test errors %q; want a token", tt.name, err, errs)
			}
			continue
		}
		if err == nil || resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v; want 422 saying %q", tt.name, err, tt.want)
		}
		if len(errs) != 1 || !strings.Contains(errs[0], tt.want) {
			t.Errorf("%s: test errors %q; want one saying %q", tt.name, errs, tt.want)
		}
	}
	reqs := f.TokenRequests()
	if len(reqs) != len(tests) {
		t.Fatalf("%d token requests recorded, want %d", len(reqs), len(tests))
	}
	if r := reqs[2]; r.Repositories[0] != "one" || r.Permissions["contents"] != "write" || r.Refused != "" {
		t.Errorf("recorded push request = %+v", r)
	}
	if r := reqs[8]; !strings.Contains(r.Refused, "wider") {
		t.Errorf("recorded wide request = %+v", r)
	}

	// A token answers only for what it was minted for, as on GitHub.
	read, _, err := app.Apps().Apps.CreateInstallationToken(context.Background(), testInstallID,
		&github.InstallationTokenOptions{Repositories: []string{"one"}, Permissions: p("contents", "read")})
	if err != nil {
		t.Fatal(err)
	}
	push, _, err := app.Apps().Apps.CreateInstallationToken(context.Background(), testInstallID,
		&github.InstallationTokenOptions{Repositories: []string{"one"}, Permissions: p("contents", "write")})
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := apiSend(t, "PATCH", f.GitHubAPIURL()+"repos/acme/one", "token "+push.GetToken(), `{"description":"x"}`); resp.StatusCode != http.StatusForbidden {
		t.Errorf("repository edit with a push token (no administration): %d, want 403", resp.StatusCode)
	}
	for name, req := range map[string]struct{ method, path, body string }{
		"check run":       {"POST", "repos/acme/one/check-runs", `{"name":"x","head_sha":"` + strings.Repeat("a", 40) + `"}`},
		"repository edit": {"PATCH", "repos/acme/one", `{"description":"x"}`},
		"release":         {"POST", "repos/acme/one/releases", `{"tag_name":"v1"}`},
	} {
		if resp, _ := apiSend(t, req.method, f.GitHubAPIURL()+req.path, "token "+read.GetToken(), req.body); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s with a contents-read token: %d, want 403", name, resp.StatusCode)
		}
	}
}
