package forgetest

import (
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Work is a non-bare repository in a temp dir, driven by the git CLI, for
// making content and pushing or fetching it through a forge. Author,
// committer and dates are fixed, and each commit or annotated tag advances
// the clock by one second, so object ids are the same on every run. A Work
// is not safe for concurrent use.
type Work struct {
	Dir  string // the work tree
	t    testing.TB
	home string
	tick int // seconds after workEpoch of the next commit or tag
}

const workEpoch = 1700000000 // 2023-11-14T22:13:20Z

// NewWork makes an empty repository whose first branch is "main".
func NewWork(t testing.TB) *Work {
	t.Helper()
	w := newWork(t)
	w.Run("init", "-q", "-b", "main", w.Dir)
	return w
}

// Clone clones url into a new Work, authenticating as login with token
// (see [Work.Git]).
func Clone(t testing.TB, url, login, token string) (*Work, error) {
	t.Helper()
	w := newWork(t)
	if _, err := w.Git(login, token, "clone", "-q", url, w.Dir); err != nil {
		return nil, err
	}
	return w, nil
}

func newWork(t testing.TB) *Work {
	root := t.TempDir()
	w := &Work{Dir: filepath.Join(root, "work"), t: t, home: filepath.Join(root, "home")}
	if err := os.Mkdir(w.home, 0o700); err != nil {
		t.Fatalf("forgetest: %v", err)
	}
	return w
}

// Run runs git in the work tree, fails the test if git fails, and returns
// its standard output without the trailing newline.
func (w *Work) Run(args ...string) string {
	w.t.Helper()
	out, err := w.Git("", "", args...)
	if err != nil {
		w.t.Fatalf("forgetest: %v", err)
	}
	return out
}

// Git runs git in the work tree and returns its standard output without the
// trailing newline; the error carries standard error. With a token, every
// HTTP request carries "Authorization: Basic" for login:token (login
// "x-access-token" if empty), passed through GIT_CONFIG_* environment
// variables so the token is in no URL, argument or file.
func (w *Work) Git(login, token string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	if _, err := os.Stat(w.Dir); err == nil { // not yet for init and clone
		cmd.Dir = w.Dir
	}
	date := fmt.Sprintf("%d +0000", workEpoch+w.tick)
	cmd.Env = append(gitEnv(w.home),
		"GIT_AUTHOR_NAME=Forge Test", "GIT_AUTHOR_EMAIL=forgetest@example.com", "GIT_AUTHOR_DATE="+date,
		"GIT_COMMITTER_NAME=Forge Test", "GIT_COMMITTER_EMAIL=forgetest@example.com", "GIT_COMMITTER_DATE="+date,
	)
	if token != "" {
		if login == "" {
			login = "x-access-token"
		}
		cred := base64.StdEncoding.EncodeToString([]byte(login + ":" + token))
		cmd.Env = append(cmd.Env,
			"GIT_CONFIG_COUNT=1",
			"GIT_CONFIG_KEY_0=http.extraHeader",
			"GIT_CONFIG_VALUE_0=Authorization: Basic "+cred,
		)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSuffix(string(out), "\n"), nil
}

// Commit writes files (path → content; directories are made) on top of the
// work tree, commits everything with message msg and returns the commit id.
func (w *Work) Commit(msg string, files map[string]string) string {
	w.t.Helper()
	for name, content := range files {
		path := filepath.Join(w.Dir, filepath.FromSlash(name))
		err := os.MkdirAll(filepath.Dir(path), 0o755)
		if err == nil {
			err = os.WriteFile(path, []byte(content), 0o644)
		}
		if err != nil {
			w.t.Fatalf("forgetest: %v", err)
		}
	}
	w.Run("add", "-A")
	w.Run("commit", "-q", "--allow-empty", "-m", msg)
	w.tick++
	return w.Rev("HEAD")
}

// Branch creates branch name at HEAD, or moves it there, and checks it out.
func (w *Work) Branch(name string) {
	w.t.Helper()
	w.Run("checkout", "-q", "-B", name)
}

// Checkout checks out rev: a branch, or any commit as a detached HEAD.
func (w *Work) Checkout(rev string) {
	w.t.Helper()
	w.Run("checkout", "-q", rev)
}

// Tag makes tag name at target, an annotated tag (message = name) or a
// lightweight one, and returns the tag's object id.
func (w *Work) Tag(name, target string, annotated bool) string {
	w.t.Helper()
	if annotated {
		w.Run("tag", "-a", "-m", name, name, target)
		w.tick++
	} else {
		w.Run("tag", name, target)
	}
	return w.Rev("refs/tags/" + name)
}

// Rev resolves rev to an object id.
func (w *Work) Rev(rev string) string {
	w.t.Helper()
	return w.Run("rev-parse", "--verify", rev)
}

// Push runs git push url refspecs... as login with token (see [Work.Git]).
func (w *Work) Push(url, login, token string, refspecs ...string) error {
	_, err := w.Git(login, token, append([]string{"push", url}, refspecs...)...)
	return err
}

// Fetch runs git fetch url refspecs... as login with token (see [Work.Git]).
func (w *Work) Fetch(url, login, token string, refspecs ...string) error {
	_, err := w.Git(login, token, append([]string{"fetch", "-q", url}, refspecs...)...)
	return err
}
