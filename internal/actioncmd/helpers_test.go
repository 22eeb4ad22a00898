package actioncmd

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// testBundle is one fake run: its environment, streams, files and the sync
// it calls instead of the real one.
type testBundle struct {
	env            map[string]string
	dir            string // temp dir: workspace and GitHub file commands live here
	stdout, stderr bytes.Buffer

	mu    sync.Mutex
	calls []mirror.Options // what the fake sync was given
}

// testDestToken is the destination token of every fake run.
const testDestToken = "dest-token-for-tests"

var fixedNow = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// setup returns a bundle; with actions it looks like a docker action step.
func setup(t *testing.T, actions bool) *testBundle {
	t.Helper()
	// A destination token, as every real run needs one (the tests of a
	// missing one delete it).
	b := &testBundle{env: map[string]string{"DESTINATION_TOKEN": testDestToken}, dir: t.TempDir()}
	if actions {
		ws := filepath.Join(b.dir, "workspace")
		if err := os.Mkdir(ws, 0o755); err != nil {
			t.Fatal(err)
		}
		for k, v := range map[string]string{
			"GITHUB_ACTIONS":      "true",
			"GITHUB_REPOSITORY":   "octo/repo",
			"GITHUB_SERVER_URL":   "https://github.com",
			"GITHUB_OUTPUT":       filepath.Join(b.dir, "output"),
			"GITHUB_STEP_SUMMARY": filepath.Join(b.dir, "summary"),
			"GITHUB_WORKSPACE":    ws,
			"GITHUB_ACTION":       "mirror",
		} {
			b.env[k] = v
		}
	}
	return b
}

// app returns the app under test; sync stands in for mirror.Sync.
func (b *testBundle) app(args []string, res *mirror.Result, err error) *App {
	return &App{
		Args:   args,
		Getenv: func(k string) string { return b.env[k] },
		Getwd:  func() (string, error) { return b.dir, nil },
		Stdout: &b.stdout,
		Stderr: &b.stderr,
		Now:    func() time.Time { return fixedNow },
		Sync: func(_ context.Context, opts mirror.Options) (*mirror.Result, error) {
			b.mu.Lock()
			defer b.mu.Unlock()
			b.calls = append(b.calls, opts)
			return res, err
		},
	}
}

// run runs the app and returns its exit code.
func (b *testBundle) run(t *testing.T, args []string, res *mirror.Result, err error) int {
	t.Helper()
	return exitCode(b.app(args, res, err).run(t.Context()))
}

// file returns a file's content, "" if it does not exist.
func (b *testBundle) file(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// outputs parses the GITHUB_OUTPUT file (name<<DELIM / value / DELIM).
func (b *testBundle) outputs(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(b.file(t, b.env["GITHUB_OUTPUT"])))
	for sc.Scan() {
		name, delim, ok := strings.Cut(sc.Text(), "<<")
		if !ok {
			t.Fatalf("GITHUB_OUTPUT: unexpected line %q", sc.Text())
		}
		var lines []string
		for sc.Scan() && sc.Text() != delim {
			lines = append(lines, sc.Text())
		}
		out[name] = strings.Join(lines, "\n")
	}
	return out
}

const (
	sha1 = "1111111111111111111111111111111111111111"
	sha2 = "2222222222222222222222222222222222222222"
	sha3 = "3333333333333333333333333333333333333333"
)

// okResult has every kind of in-sync outcome.
func okResult() *mirror.Result {
	return &mirror.Result{
		Refs: []mirror.RefResult{
			{Ref: "refs/heads/main", Action: mirror.ActUpdate, Outcome: mirror.Updated, Source: sha2, Target: sha1},
			{Ref: "refs/heads/stable", Action: mirror.ActNone, Outcome: mirror.Unchanged, Source: sha1, Target: sha1},
			{Ref: "refs/tags/v1", Action: mirror.ActCreate, Outcome: mirror.Created, Source: sha3},
			{Ref: "refs/heads/gone", Action: mirror.ActDelete, Outcome: mirror.Deleted, Target: sha1},
			{Ref: "refs/heads/rewritten", Action: mirror.ActOverwrite, Outcome: mirror.Forced, Source: sha3, Target: sha2,
				Backup: "refs/mirror-backup/heads/rewritten/2222222"},
		},
		Backups: []string{"refs/mirror-backup/heads/rewritten/2222222"},
	}
}

// badResult adds a diverged and a rejected ref to okResult.
func badResult() *mirror.Result {
	r := okResult()
	r.Refs = append(r.Refs,
		mirror.RefResult{Ref: "refs/heads/dev", Action: mirror.ActSkip, Outcome: mirror.Diverged, Source: sha2, Target: sha3,
			Class: failure.Diverged, Message: "the destination has commits the source lacks"},
		mirror.RefResult{Ref: "refs/heads/ci", Action: mirror.ActUpdate, Outcome: mirror.Rejected, Source: sha2, Target: sha1,
			Class: failure.Permission, Message: "refusing to allow a token to update workflow files"},
	)
	return r
}
