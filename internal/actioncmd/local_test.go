package actioncmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
)

// TestDemo: `gitee-mirror demo` mirrors end to end with the real sync core
// and no git binary: creation, a fast-forward with a prune, then nothing.
func TestDemo(t *testing.T) {
	t.Parallel()
	b := setup(t, false)
	a := b.app([]string{"demo"}, nil, nil)
	a.Sync = mirror.Sync
	if got := exitCode(a.run(t.Context())); got != exitOK {
		t.Fatalf("exit %d; stderr:\n%s\nstdout:\n%s", got, &b.stderr, &b.stdout)
	}
	out := b.stdout.String()
	rest := out
	for _, want := range []string{
		"created an empty bare repository",
		"refs/heads/feature  created", "refs/tags/v1.0      created", "3 changed, 0 diverged, 0 already in sync",
		"refs/heads/feature  deleted", "refs/heads/main     updated", "2 changed, 0 diverged, 1 already in sync",
		"0 changed, 0 diverged, 2 already in sync",
		"is removed now",
	} {
		i := strings.Index(rest, want)
		if i < 0 {
			t.Fatalf("stdout lacks %q (in order):\n%s", want, out)
		}
		rest = rest[i+len(want):]
	}
	if entries, _ := filepath.Glob(filepath.Join(b.dir, "gitee-mirror-report*.json")); len(entries) != 0 {
		t.Errorf("the demo left reports in the working directory: %v", entries)
	}
}

// TestLocalPaths: local repositories as source and destination, served
// in-process; no token goes to them; a missing destination is created
// only with create-missing, and a directory of other files is refused.
func TestLocalPaths(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	if _, err := demoSource(src); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		dst      func(t *testing.T) string
		args     []string
		wantExit int
		stderr   string
	}{
		"new destination": {dst: func(t *testing.T) string { return filepath.Join(t.TempDir(), "m.git") }, wantExit: exitOK},
		"existing bare": {dst: func(t *testing.T) string {
			d := t.TempDir()
			if _, err := git.PlainInit(d, true); err != nil {
				t.Fatal(err)
			}
			return d
		}, wantExit: exitOK},
		"missing, create-missing off": {dst: func(t *testing.T) string { return filepath.Join(t.TempDir(), "m.git") },
			args: []string{"--create-missing=false"}, wantExit: exitUsage, stderr: "is not a Git repository"},
		"not a repository": {dst: func(t *testing.T) string {
			d := t.TempDir()
			if err := os.WriteFile(filepath.Join(d, "notes.txt"), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
			return d
		}, wantExit: exitUsage, stderr: "with files but no Git repository"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, false)
			b.env["SOURCE_TOKEN"] = "never-sent-src"
			dst := tt.dst(t)
			a := b.app(append([]string{"--source=" + src, "--destination=" + dst}, tt.args...), nil, nil)
			var got mirror.Options
			a.Sync = func(ctx context.Context, opts mirror.Options) (*mirror.Result, error) {
				got = opts
				return mirror.Sync(ctx, opts)
			}
			if code := exitCode(a.run(t.Context())); code != tt.wantExit {
				t.Fatalf("exit %d, want %d; stderr:\n%s\nstdout:\n%s", code, tt.wantExit, &b.stderr, &b.stdout)
			}
			if tt.wantExit != exitOK {
				if !strings.Contains(b.stderr.String(), tt.stderr) {
					t.Errorf("stderr lacks %q:\n%s", tt.stderr, &b.stderr)
				}
				return
			}
			if got.Source.Token != "" || got.Target.Token != "" || !strings.HasPrefix(got.Target.URL, "http://127.0.0.1:") {
				t.Errorf("sync got source %+v, target %+v: want loopback URLs and no tokens", got.Source, got.Target)
			}
			r, err := git.PlainOpen(dst)
			if err != nil {
				t.Fatal(err)
			}
			s, _ := git.PlainOpen(src)
			for _, name := range []plumbing.ReferenceName{plumbing.Main, "refs/heads/feature", "refs/tags/v1.0"} {
				want, err1 := s.Reference(name, false)
				have, err2 := r.Reference(name, false)
				if err1 != nil || err2 != nil || want.Hash() != have.Hash() {
					t.Errorf("%s: destination %v (%v), source %v (%v)", name, have, err2, want, err1)
				}
			}
			if !strings.Contains(b.stdout.String(), "Mirroring "+src+" to "+dst) {
				t.Errorf("stdout does not name the paths:\n%s", &b.stdout)
			}
		})
	}
}
