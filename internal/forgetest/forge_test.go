package forgetest

import (
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// bundle is a forge with the users end-to-end tests need: alice owns
// alice/src, bob can push to bob/dst, carol can only read it.
type bundle struct {
	f *Forge
}

const (
	aliceToken = "tok-alice"
	bobToken   = "tok-bob"
	carolToken = "tok-carol"
)

func setup(t *testing.T, opts ...Option) bundle {
	t.Helper()
	f := New(t, opts...)
	f.CreateRepo("alice", "src")
	f.CreateRepo("bob", "dst")
	f.AddUser("alice", aliceToken)
	f.AddUser("bob", bobToken)
	f.AddUser("carol", carolToken)
	f.Grant("alice", "alice", "*", Write)
	f.Grant("bob", "alice", "src", Read)
	f.Grant("bob", "bob", "dst", Write)
	f.Grant("carol", "bob", "dst", Read)
	return bundle{f: f}
}

// seed pushes two branches and two tags to alice/src and returns the refs.
func (b bundle) seed(t *testing.T) map[string]string {
	t.Helper()
	w := NewWork(t)
	w.Commit("first", map[string]string{"README": "hello\n"})
	w.Tag("v1", "HEAD", true)
	w.Branch("feature")
	w.Commit("second", map[string]string{"dir/file": "x\n"})
	w.Tag("light", "HEAD", false)
	if err := w.Push(b.f.GitURL("alice", "src"), "alice", aliceToken, "refs/heads/*:refs/heads/*", "refs/tags/*:refs/tags/*"); err != nil {
		t.Fatal(err)
	}
	return b.f.Refs("alice", "src")
}

func TestCloneFetchPush(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts []Option
	}{
		{"v2", nil},
		{"v0", []Option{WithoutProtocolV2()}},
		{"gitee auth", []Option{RequireLoginAsUsername()}},
		{"low priority", []Option{LowPriorityGit()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tc.opts...)
			src := b.seed(t)
			if len(src) != 4 {
				t.Fatalf("source refs = %v, want 2 branches and 2 tags", src)
			}
			w, err := Clone(t, b.f.GitURL("alice", "src"), "bob", bobToken)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := w.Rev("origin/feature"), src["refs/heads/feature"]; got != want {
				t.Errorf("cloned feature = %s, want %s", got, want)
			}
			if err := w.Fetch(b.f.GitURL("alice", "src"), "bob", bobToken, "refs/tags/*:refs/tags/*"); err != nil {
				t.Fatal(err)
			}
			if err := w.Push(b.f.GitURL("bob", "dst"), "bob", bobToken, "origin/main:refs/heads/main", "origin/feature:refs/heads/feature", "refs/tags/*:refs/tags/*"); err != nil {
				t.Fatal(err)
			}
			dst := b.f.Refs("bob", "dst")
			if !maps.Equal(dst, src) {
				t.Errorf("target refs = %v, want %v", dst, src)
			}
			if err := b.f.Fsck("bob", "dst"); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	b := setup(t)
	gitee := setup(t, RequireLoginAsUsername())
	for _, tc := range []struct {
		name        string
		f           *Forge
		method      string
		path        string
		user, token string // no basic auth if token is empty
		want        int
		wantBody    string
	}{
		{"read", b.f, "GET", "/alice/src.git/info/refs?service=git-upload-pack", "x-access-token", bobToken, 200, ""},
		{"without .git", b.f, "GET", "/alice/src/info/refs?service=git-upload-pack", "x", bobToken, 200, ""},
		{"write", b.f, "GET", "/bob/dst.git/info/refs?service=git-receive-pack", "x", bobToken, 200, ""},
		{"no auth", b.f, "GET", "/alice/src.git/info/refs?service=git-upload-pack", "", "", 401, "Invalid"},
		{"wrong token", b.f, "GET", "/alice/src.git/info/refs?service=git-upload-pack", "bob", "wrong", 401, "Invalid"},
		{"wrong token unknown repo", b.f, "GET", "/nobody/none.git/info/refs?service=git-upload-pack", "bob", "wrong", 401, ""},
		{"read-only push", b.f, "GET", "/bob/dst.git/info/refs?service=git-receive-pack", "carol", carolToken, 403, "Permission to bob/dst.git denied to carol."},
		{"read-only push POST", b.f, "POST", "/bob/dst.git/git-receive-pack", "carol", carolToken, 403, "denied"},
		{"no grant", b.f, "GET", "/alice/src.git/info/refs?service=git-upload-pack", "carol", carolToken, 403, "denied"},
		{"unknown repo", b.f, "GET", "/alice/none.git/info/refs?service=git-upload-pack", "alice", aliceToken, 404, "not found"},
		{"dumb http", b.f, "GET", "/alice/src.git/info/refs", "alice", aliceToken, 404, ""},
		{"wrong method", b.f, "GET", "/alice/src.git/git-upload-pack", "alice", aliceToken, 405, ""},
		{"not git", b.f, "GET", "/api/v4/user", "alice", aliceToken, 404, ""}, // /api/v5 and /api/v3 are the fake APIs
		{"gitee login", gitee.f, "GET", "/alice/src.git/info/refs?service=git-upload-pack", "bob", bobToken, 200, ""},
		{"gitee other login", gitee.f, "GET", "/alice/src.git/info/refs?service=git-upload-pack", "alice", bobToken, 401, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tc.method, tc.f.BaseURL()+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.token != "" {
				req.SetBasicAuth(tc.user, tc.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.want {
				t.Fatalf("status = %d, want %d; body %q", resp.StatusCode, tc.want, body)
			}
			if got := resp.Header.Get("WWW-Authenticate"); (tc.want == 401) != strings.HasPrefix(got, `Basic realm="`) {
				t.Errorf("WWW-Authenticate = %q", got)
			}
			if !strings.Contains(string(body), tc.wantBody) {
				t.Errorf("body = %q, want it to contain %q", body, tc.wantBody)
			}
			if strings.Contains(string(body), tc.token) && tc.token != "" {
				t.Errorf("body %q shows the token", body)
			}
		})
	}
}

func TestGitCLIRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seed(t)
	w := NewWork(t)
	w.Commit("c", nil)
	for _, tc := range []struct {
		name    string
		run     func() error
		wantErr string
	}{
		{"push read-only", func() error { return w.Push(b.f.GitURL("bob", "dst"), "carol", carolToken, "main") }, "403"},
		{"push wrong token", func() error { return w.Push(b.f.GitURL("bob", "dst"), "bob", "wrong", "main") }, "terminal prompts disabled"},
		{"fetch no token", func() error { return w.Fetch(b.f.GitURL("alice", "src"), "", "") }, "terminal prompts disabled"},
		{"fetch unknown repo", func() error { return w.Fetch(b.f.GitURL("alice", "none"), "alice", aliceToken) }, "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error = %v, want one containing %q", err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "tok-") {
				t.Errorf("error shows a token: %v", err)
			}
		})
	}
	if refs := b.f.Refs("bob", "dst"); len(refs) != 0 {
		t.Errorf("refused pushes left refs %v", refs)
	}
}

func TestHandle(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.f.Handle("GET /api/v5/user", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		login, ok := b.f.Login(r.URL.Query().Get("access_token"))
		if !ok {
			http.Error(w, `{"message":"401 Unauthorized"}`, http.StatusUnauthorized)
			return
		}
		io.WriteString(w, `{"login":"`+login+`"}`)
	}))
	resp, err := http.Get(b.f.BaseURL() + "/api/v5/user?access_token=" + bobToken)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got, want := string(body), `{"login":"bob"}`; got != want {
		t.Errorf("API body = %q, want %q", got, want)
	}
	b.seed(t) // Git routes still work.
}

// With LowPriorityGit, the git processes run at nice 19: a hook, which
// receive-pack runs as its child, sees it.
func TestLowPriorityGit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts []Option
		want string
	}{
		{"default", nil, "0"},
		{"low priority", []Option{LowPriorityGit()}, "19"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tc.opts...)
			dir := b.f.RepoPath("bob", "dst")
			hook := "#!/bin/sh\nnice > \"$GIT_DIR/niceness\"\n"
			if err := os.WriteFile(filepath.Join(dir, "hooks", "post-receive"), []byte(hook), 0o755); err != nil {
				t.Fatal(err)
			}
			w := NewWork(t)
			w.Commit("first", map[string]string{"README": "hello\n"})
			if err := w.Push(b.f.GitURL("bob", "dst"), "bob", bobToken, "HEAD:refs/heads/main"); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(dir, "niceness"))
			if err != nil {
				t.Fatalf("the hook did not run: %v", err)
			}
			// "default" inherits the test's own niceness (0 unless the run
			// was started under nice); nice -n 19 stops at 19.
			want := tc.want
			if tc.want == "0" {
				own, err := exec.Command("nice").Output()
				if err != nil {
					t.Fatal(err)
				}
				want = strings.TrimSpace(string(own))
			}
			if got := strings.TrimSpace(string(got)); got != want {
				t.Errorf("git ran at niceness %s, want %s", got, want)
			}
		})
	}
}

// The forge checks branch names with git itself, not with the client's
// check, so that a bug in mirror.CheckRefName cannot hide in both.
func TestCheckBranchName(t *testing.T) {
	t.Parallel()
	f := New(t)
	for name, tt := range map[string]struct {
		branch string
		ok     bool
	}{
		"plain":          {"main", true},
		"nested":         {"feature/x", true},
		"dots":           {"a..b", false},
		"space":          {"a b", false},
		"newline":        {"a\nb", false},
		"option-like":    {"-x", false},
		"lock suffix":    {"x.lock", false},
		"trailing slash": {"x/", false},
		"at-brace":       {"a@{1}", false},
	} {
		if got := f.checkBranchName(tt.branch) == nil; got != tt.ok {
			t.Errorf("%s: checkBranchName(%q) ok = %v, want %v", name, tt.branch, got, tt.ok)
		}
	}
}
