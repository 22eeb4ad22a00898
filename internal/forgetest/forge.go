// Package forgetest runs, inside a test, a loopback Git forge: an HTTP server
// that speaks real Git smart HTTP by running `git http-backend` over bare
// repositories in a temp dir, checks tokens like GitHub and Gitee do, and has
// switches for the faults a mirror must survive (5xx, dropped connections,
// slow responses, refused refs, refs moving under a push).
//
// Git routes are /{owner}/{repo}.git/... (the .git suffix is optional).
// Beside Git, the forge serves fake site APIs over the same repositories:
// Gitee's OpenAPI v5 under /api/v5/ ([Forge.GiteeAPIURL]) and GitHub's REST
// API under /api/v3/ ([Forge.GitHubAPIURL], the GitHub Enterprise Server
// layout), including the endpoints a GitHub App calls ([Forge.RegisterApp]),
// and the Git LFS batch API with object storage for every repository
// ([Forge.DisableLFS] and other switches in gitlfs.go).
// [Forge.Handle] adds other handlers.
package forgetest

import (
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Forge is a running test forge. Its methods are safe for concurrent use.
type Forge struct {
	t       testing.TB
	srv     *httptest.Server
	mux     *http.ServeMux
	cfg     config
	repos   string // GIT_PROJECT_ROOT: <repos>/<owner>/<name>.git
	home    string // HOME for every git process the forge runs
	spool   string // buffered request bodies
	backend string // path of git-http-backend
	nice    string // path of nice, with LowPriorityGit

	latency  atomic.Int64   // time.Duration added to every request
	inflight sync.WaitGroup // handlers, including those of hijacked connections

	mu         sync.Mutex
	known      map[string]bool              // "owner/name" of repositories: true once complete, false while being made
	tokens     map[string]string            // token → login
	grants     map[string]map[string]Access // login → "owner/name" or "owner/*" → access
	failN      int
	failCode   int
	drops      int
	onRequest  func(*http.Request)
	onServe    func(http.ResponseWriter, *http.Request, http.Handler)
	gitBusy    int            // Git requests being served
	gitIdle    *sync.Cond     // signalled when gitBusy drops to zero; on mu
	pushes     map[string]int // receive-packs being served per "owner/name": pushwatch.go
	overlaps   []string
	onPushBody func(*http.Request, int64) error
	stats      Stats

	api       *apiState     // fake site APIs: accounts.go
	workflows workflowHooks // hooks for pushes without workflows write: githubworkflows.go
	lfs       *lfsState     // Git LFS API and storage: gitlfs.go
	advCaps   advCaps       // git's capabilities, for InProcessRefAdvertisement: refadv.go
}

type config struct {
	loginAsUser   bool
	noV2          bool
	lowPriority   bool
	inProcessRefs bool
	// detectOverlap fails the test on overlapping receive-packs.
	detectOverlap bool
}

// Option configures [New].
type Option func(*config)

// RequireLoginAsUsername makes Git requests authenticate like Gitee: the
// basic-auth username must be the token's login. By default any username is
// accepted, as GitHub does for "x-access-token".
func RequireLoginAsUsername() Option { return func(c *config) { c.loginAsUser = true } }

// WithoutProtocolV2 drops the Git-Protocol request header, so the git CLI
// falls back to protocol v0 as it does against an old server.
func WithoutProtocolV2() Option { return func(c *config) { c.noV2 = true } }

// LowPriorityGit runs the forge's git processes at the lowest CPU priority
// (nice 19). A benchmark that measures a program on the same machine as
// the forge uses it: the forge stands in for GitHub's and Gitee's servers,
// whose work in production runs on other machines, not on the cores of
// the program measured.
func LowPriorityGit() Option { return func(c *config) { c.lowPriority = true } }

// New starts a forge on 127.0.0.1 with its data under t.TempDir(); it stops
// when the test ends.
func New(t testing.TB, opts ...Option) *Forge {
	t.Helper()
	root := t.TempDir()
	f := &Forge{
		t:       t,
		mux:     http.NewServeMux(),
		repos:   filepath.Join(root, "repos"),
		home:    filepath.Join(root, "home"),
		spool:   filepath.Join(root, "spool"),
		backend: httpBackend(t),
		known:   map[string]bool{},
		tokens:  map[string]string{},
		grants:  map[string]map[string]Access{},
	}
	for _, o := range opts {
		o(&f.cfg)
	}
	if f.cfg.lowPriority {
		nice, err := exec.LookPath("nice")
		if err != nil {
			t.Fatalf("forgetest: LowPriorityGit: %v", err)
		}
		f.nice = nice
	}
	for _, d := range []string{f.repos, f.home, f.spool} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatalf("forgetest: %v", err)
		}
	}
	f.mux.Handle("/", http.HandlerFunc(f.serveGit))
	f.initAPIs()
	f.initLFS()
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.Config.ErrorLog = log.New(logWriter{t: t, prefix: "forgetest server: "}, "", 0)
	f.srv.Start()
	t.Cleanup(func() {
		f.srv.Close()
		// Close does not wait for handlers whose connection was hijacked
		// (DropNextPack); they may still log.
		f.inflight.Wait()
	})
	return f
}

// BaseURL is the server's root, "http://127.0.0.1:PORT", without a trailing slash.
func (f *Forge) BaseURL() string { return f.srv.URL }

// Handle registers an extra handler on the forge's mux, with the patterns of
// [http.ServeMux]. Git owns the catch-all "/" pattern and the fake APIs the
// "/api/v5/" and "/api/v3/" subtrees (registering those exact patterns
// panics); a more specific pattern, such as "GET /api/v5/user", takes
// precedence over them. Latency applies to these handlers too; the other
// fault switches and [Stats] cover Git requests only, [Forge.APIStats] the fake
// APIs' own routes.
func (f *Forge) Handle(pattern string, h http.Handler) { f.mux.Handle(pattern, h) }

// CreateRepo makes an empty bare repository that accepts pushes, with HEAD
// at refs/heads/main, and returns its path. It copies a template made once
// per forge rather than running git init each time.
func (f *Forge) CreateRepo(owner, name string) string {
	f.t.Helper()
	if !validName(owner) || !validName(name) {
		f.t.Fatalf("forgetest: invalid repository name %q/%q", owner, name)
	}
	switch err := f.createBare(owner, name, "main"); {
	case errors.Is(err, errRepoExists):
		f.t.Fatalf("forgetest: repository %s/%s already exists", owner, name)
	case err != nil:
		f.t.Fatalf("forgetest: creating %s/%s: %v", owner, name, err)
	}
	return f.RepoPath(owner, name)
}

// RepoPath is where the bare repository owner/name lives (or would live).
func (f *Forge) RepoPath(owner, name string) string {
	return filepath.Join(f.repos, owner, name+".git")
}

// GitURL is the HTTP URL of owner/name, "http://127.0.0.1:PORT/owner/name.git".
func (f *Forge) GitURL(owner, name string) string {
	return f.srv.URL + "/" + owner + "/" + name + ".git"
}

func (f *Forge) exists(owner, name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.known[owner+"/"+name]
}

// validName accepts the characters GitHub and Gitee allow in owner and
// repository names, and refuses "." and ".." so a path cannot escape the root.
func validName(s string) bool {
	if s == "" || s == "." || s == ".." || strings.HasSuffix(s, ".git") {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			r == '-' || r == '_' || r == '.'
		if !ok {
			return false
		}
	}
	return true
}

var execPath = sync.OnceValues(func() (string, error) {
	out, err := exec.Command("git", "--exec-path").Output()
	return strings.TrimSpace(string(out)), err
})

func httpBackend(t testing.TB) string {
	t.Helper()
	dir, err := execPath()
	if err != nil {
		t.Fatalf("forgetest: git --exec-path: %v", err)
	}
	path := filepath.Join(dir, "git-http-backend")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("forgetest: %v", err)
	}
	return path
}

// gitEnv is a minimal environment for git processes, so the user's own
// configuration never leaks in.
func gitEnv(home string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_TERMINAL_PROMPT=0",
		"LC_ALL=C",
	}
}

// runGit runs git in dir (a bare repository or a work tree; "" for none) and
// returns its standard output; an error carries its standard error.
func runGit(home, dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = gitEnv(home)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("git %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// logWriter sends server and git http-backend diagnostics to the test log.
type logWriter struct {
	t      testing.TB
	prefix string
}

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s%s", w.prefix, strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
