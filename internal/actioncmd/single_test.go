package actioncmd

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// TestNoDestinationToken: a run without a destination token stops before
// any request with a message that says which variable to set, in both
// modes, instead of the server's "rejected the credentials" later.
func TestNoDestinationToken(t *testing.T) {
	t.Parallel()
	tests := map[string][]string{
		"one repository": {"--source=github/octo/app", "--destination=gitee/mirror/app"},
		"github account": {"--source=gitee/octo", "--destination=github/mirror", "--source-username=x"},
	}
	for name, args := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, false)
			delete(b.env, "DESTINATION_TOKEN")
			b.env["SOURCE_TOKEN"] = "src"
			if got := b.run(t, args, okResult(), nil); got != exitUsage {
				t.Fatalf("exit %d, want %d; stderr:\n%s", got, exitUsage, &b.stderr)
			}
			if want := "no token for the destination: set DESTINATION_TOKEN ("; !strings.Contains(b.stderr.String(), want) {
				t.Errorf("stderr lacks %q:\n%s", want, &b.stderr)
			}
			if len(b.calls) != 0 {
				t.Errorf("sync called %d times", len(b.calls))
			}
		})
	}
}

// TestFailurePrintedOnce: a failed sync prints its error once, with no
// "0 changed, 0 diverged" tally that would read as a result.
func TestFailurePrintedOnce(t *testing.T) {
	t.Parallel()
	for _, actions := range []bool{false, true} {
		b := setup(t, actions)
		b.env["GITHUB_REPOSITORY"] = "octo/repo"
		err := failure.New(failure.Auth, "target https://gitee.com/o/r.git rejected the credentials")
		if got := b.run(t, []string{"--destination=gitee/o/r"}, nil, err); got != exitSync {
			t.Fatalf("actions=%v: exit %d", actions, got)
		}
		all := b.stdout.String() + b.stderr.String()
		if n := strings.Count(all, "rejected the credentials"); n != 1 {
			t.Errorf("actions=%v: the error is printed %d times:\n%s", actions, n, all)
		}
		if strings.Contains(all, "0 changed") {
			t.Errorf("actions=%v: a tally before the failure:\n%s", actions, all)
		}
	}
}

// TestUnmatchedFilterWarns: a branch or tag glob that selects nothing on the
// source is a warning naming it; one that selects a ref is not.
func TestUnmatchedFilterWarns(t *testing.T) {
	t.Parallel()
	b := setup(t, false)
	b.env["GITHUB_REPOSITORY"] = "octo/repo"
	args := []string{"--destination=gitee/o/r", "--branches=mian, stable, !gone", "--tags=v*, release-*"}
	if got := b.run(t, args, okResult(), nil); got != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", got, &b.stderr)
	}
	stderr := b.stderr.String()
	for _, want := range []string{`branches: "mian" selects no branch`, `tags: "release-*" selects no tag`} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	for _, not := range []string{`"stable"`, `"v*"`, `"!gone"`} {
		if strings.Contains(stderr, not) {
			t.Errorf("stderr warns about %s, which matches or excludes:\n%s", not, stderr)
		}
	}
}

// TestAccountInputsCheckedForOneRepository: the account-mode inputs that
// have defaults (so they cannot be refused as "given") are still checked
// with one repository; a typo is never silently ignored.
func TestAccountInputsCheckedForOneRepository(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		args  []string
		env   map[string]string
		input string
	}{
		"concurrency zero":   {args: []string{"--concurrency=0"}, input: inConcurrency},
		"concurrency input":  {env: map[string]string{"INPUT_CONCURRENCY": "four"}, input: inConcurrency},
		"visibility":         {args: []string{"--visibility=secret"}, input: inVisibility},
		"forks":              {args: []string{"--forks=maybe"}, input: inForks},
		"archived":           {env: map[string]string{"INPUT_ARCHIVED": "perhaps"}, input: inArchived},
		"create-missing":     {args: []string{"--create-missing=sometimes"}, input: inCreateMissing},
		"gitee-api-url":      {args: []string{"--gitee-api-url=ftp://gitee.example"}, input: inGiteeAPIURL},
		"allow-http":         {args: []string{"--allow-http=often"}, input: inAllowHTTP},
		"account-type given": {args: []string{"--account-type=org"}, input: inAccountType},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, false)
			b.env["GITHUB_REPOSITORY"] = "octo/repo"
			for k, v := range tt.env {
				b.env[k] = v
			}
			if got := b.run(t, append([]string{"--destination=gitee/o/r"}, tt.args...), okResult(), nil); got != exitUsage {
				t.Fatalf("exit %d, want %d; stderr:\n%s", got, exitUsage, &b.stderr)
			}
			if want := `invalid input "` + tt.input + `"`; !strings.Contains(b.stderr.String(), want) {
				t.Errorf("stderr lacks %q:\n%s", want, &b.stderr)
			}
		})
	}
}

// keptResult has a ref prune kept: its commits are on no source ref.
func keptResult() *mirror.Result {
	r := okResult()
	r.Refs = append(r.Refs, mirror.RefResult{Ref: "refs/heads/unmerged", Action: mirror.ActSkip, Outcome: mirror.Kept, Target: sha2,
		Message: "deleted on the source, but the target's commits are on no source ref: kept so nothing is lost. Delete it on the target by hand, or run with force (a backup ref is kept)"})
	return r
}

// TestKeptByPruneIsOutOfSync: a ref prune had to keep leaves the destination
// out of sync: counted in the kept output, listed with what to do, exit 1
// as for a diverged ref. Without prune, keeping it is the policy: exit 0.
func TestKeptByPruneIsOutOfSync(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		args     []string
		wantExit int
		wantKept string
	}{
		"prune":    {wantExit: exitRefs, wantKept: "1"},
		"no prune": {args: []string{"--prune=false"}, wantExit: exitOK, wantKept: "0"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, true)
			if got := b.run(t, append([]string{"--destination=gitee/o/r"}, tt.args...), keptResult(), nil); got != tt.wantExit {
				t.Fatalf("exit %d, want %d; stdout:\n%s", got, tt.wantExit, &b.stdout)
			}
			if got := b.outputs(t)["kept"]; got != tt.wantKept {
				t.Errorf("kept output %q, want %q", got, tt.wantKept)
			}
			if tt.wantKept == "0" {
				return
			}
			for where, text := range map[string]string{"log": b.stdout.String(), "summary": b.file(t, b.env["GITHUB_STEP_SUMMARY"])} {
				for _, want := range []string{"1 kept by prune", "refs/heads/unmerged", "Delete it on the target by hand, or run with force"} {
					if !strings.Contains(text, want) {
						t.Errorf("%s lacks %q:\n%s", where, want, text)
					}
				}
			}
			if want := "::error title=gitee-mirror%3A refs/heads/unmerged::refs/heads/unmerged: kept: "; !strings.Contains(b.stdout.String(), want) {
				t.Errorf("no annotation %q:\n%s", want, &b.stdout)
			}
		})
	}
}

// TestAccountKeptByPrune: in account mode a repository with kept refs is
// counted apart, and fails the run as a diverged one does.
func TestAccountKeptByPrune(t *testing.T) {
	t.Parallel()
	b := setupAccount(t, true)
	b.src.add(forge.Repo{Owner: "octo", Name: "app"})
	b.dst.add(forge.Repo{Owner: "mirror", Name: "app"})
	b.outcomes["app"] = syncOutcome{res: keptResult()}
	if got := b.run(t); got != exitRefs {
		t.Fatalf("exit %d; stdout:\n%s", got, &b.stdout)
	}
	if got := b.outputs(t)["kept"]; got != "1" {
		t.Errorf("kept output %q, want 1", got)
	}
	for _, want := range []string{"| app | kept |", "1 kept by prune", "refs/heads/unmerged: kept"} {
		if sum := b.file(t, b.env["GITHUB_STEP_SUMMARY"]); !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
}

// TestPlainHTTPNeedsOptIn: no token goes to an http:// address unless
// allow-http is set; then the log warns. A side without a token may be
// http:// freely: nothing secret travels.
func TestPlainHTTPNeedsOptIn(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		args     []string
		wantExit int
		warn     bool
	}{
		"refused":         {args: []string{"--destination=http://git.example/o/r.git"}, wantExit: exitUsage},
		"refused gitee":   {args: []string{"--destination=gitee/o/r", "--gitee-url=http://gitee.example"}, wantExit: exitUsage},
		"allowed":         {args: []string{"--destination=http://git.example/o/r.git", "--allow-http"}, wantExit: exitOK, warn: true},
		"source no token": {args: []string{"--source=http://git.example/o/src.git", "--destination=https://git.example/o/r.git"}, wantExit: exitOK},
		"account refused": {args: []string{"--source=github/octo", "--destination=gitee/mirror", "--gitee-url=http://gitee.example"}, wantExit: exitUsage},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, false)
			b.env["GITHUB_REPOSITORY"] = "octo/repo"
			got := b.run(t, tt.args, okResult(), nil)
			if got != tt.wantExit {
				t.Fatalf("exit %d, want %d; stderr:\n%s", got, tt.wantExit, &b.stderr)
			}
			stderr := b.stderr.String()
			if tt.wantExit == exitUsage {
				if !strings.Contains(stderr, "set allow-http: true") || len(b.calls) != 0 {
					t.Errorf("refusal does not name allow-http, or the sync ran (%d calls):\n%s", len(b.calls), stderr)
				}
				return
			}
			if gotWarn := strings.Contains(stderr, "warning: allow-http: the destination token is sent over plain http:// to git.example"); gotWarn != tt.warn {
				t.Errorf("warning printed %v, want %v:\n%s", gotWarn, tt.warn, stderr)
			}
		})
	}
}

// singleCreate is a one-repository run whose destination may be missing:
// the fake sync fails with not-found until CreateTarget has run.
type singleCreate struct {
	*accountBundle
	calls int
}

func setupSingleCreate(t *testing.T) *singleCreate {
	t.Helper()
	s := &singleCreate{accountBundle: setupAccount(t, false)}
	s.src.add(forge.Repo{Owner: "octo", Name: "app", Description: "the app", Homepage: "https://app.example", DefaultBranch: "trunk"})
	return s
}

func (s *singleCreate) run(t *testing.T, args ...string) int {
	t.Helper()
	all := append([]string{"--source=github/octo/app", "--destination=gitee/mirror/app", "--allow-http",
		"--github-url=" + s.src.srv.URL, "--gitee-url=" + s.dst.srv.URL}, args...)
	a := s.app(all)
	inner := a.Sync
	a.Sync = func(ctx context.Context, opts mirror.Options) (*mirror.Result, error) {
		s.calls++
		if opts.CreateTarget == nil {
			if _, err := s.dst.GetRepo(ctx, "mirror", "app"); err != nil {
				return nil, failure.New(failure.NotFound, "target %s was not found", opts.Target.URL)
			}
		}
		return inner(ctx, opts)
	}
	return exitCode(a.run(t.Context()))
}

// TestCreateOneRepository: create-missing works for one gitee/OWNER/REPO
// destination as in account mode: description, homepage, visibility from
// the source, then its default branch once it has landed.
func TestCreateOneRepository(t *testing.T) {
	t.Parallel()
	s := setupSingleCreate(t)
	s.outcomes["app"] = syncOutcome{res: &mirror.Result{Refs: []mirror.RefResult{
		{Ref: "refs/heads/trunk", Action: mirror.ActCreate, Outcome: mirror.Created, Source: sha1},
	}}}
	if got := s.run(t); got != exitOK {
		t.Fatalf("exit %d; stderr:\n%s\nstdout:\n%s", got, &s.stderr, &s.stdout)
	}
	want := []forge.CreateOptions{{Owner: "mirror", Name: "app", Description: "the app", Homepage: "https://app.example", Visibility: forge.Public}}
	if got := s.dst.created; len(got) != 1 || got[0].Name != want[0].Name || got[0].Description != want[0].Description ||
		got[0].Homepage != want[0].Homepage || got[0].Visibility != want[0].Visibility {
		t.Errorf("created %+v, want %+v", got, want)
	}
	if got, want := s.dst.updates, map[string]forge.RepoUpdate{"mirror/app": {DefaultBranch: "trunk"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("updates %v, want %v", got, want)
	}
	if !strings.Contains(s.stdout.String(), "created gitee/mirror/app; default branch trunk") {
		t.Errorf("stdout does not say what was created:\n%s", &s.stdout)
	}
}

// TestCreateOneRepositoryNot: no creation when the destination exists (the
// not-found was the source's), when create-missing is off, or in a dry run.
func TestCreateOneRepositoryNot(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		args     []string
		exists   bool
		wantExit int
		stdout   string
	}{
		"exists":         {exists: true, wantExit: exitSync},
		"create-missing": {args: []string{"--create-missing=false"}, wantExit: exitSync},
		"dry run":        {args: []string{"--dry-run"}, wantExit: exitOK, stdout: "dry run: would create gitee/mirror/app (public) and mirror it"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := setupSingleCreate(t)
			var code int
			if tt.exists {
				s.dst.add(forge.Repo{Owner: "mirror", Name: "app"})
				// The destination exists; the sync's not-found is the source's.
				a := s.app([]string{"--source=github/octo/app", "--destination=gitee/mirror/app", "--allow-http",
					"--github-url=" + s.src.srv.URL, "--gitee-url=" + s.dst.srv.URL})
				a.Sync = func(context.Context, mirror.Options) (*mirror.Result, error) {
					s.calls++
					return nil, failure.New(failure.NotFound, "source was not found")
				}
				code = exitCode(a.run(t.Context()))
			} else {
				code = s.run(t, tt.args...)
			}
			if code != tt.wantExit {
				t.Fatalf("exit %d, want %d; stderr:\n%s\nstdout:\n%s", code, tt.wantExit, &s.stderr, &s.stdout)
			}
			if len(s.dst.created) != 0 {
				t.Errorf("created %+v", s.dst.created)
			}
			if !strings.Contains(s.stdout.String(), tt.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, &s.stdout)
			}
			if name == "create-missing" && len(s.specs) != 0 {
				t.Errorf("API clients built with create-missing off: %v", s.specs)
			}
		})
	}
}

// TestAccountFailurePrintedOnce: in account mode too, a run that could not
// start prints its error once and no "0 mirrored" tally.
func TestAccountFailurePrintedOnce(t *testing.T) {
	t.Parallel()
	for _, actions := range []bool{false, true} {
		b := setupAccount(t, actions)
		b.src.listErr = failure.New(failure.Auth, "GitHub rejected the source token")
		if got := b.run(t); got != exitSync {
			t.Fatalf("actions=%v: exit %d", actions, got)
		}
		all := b.stdout.String() + b.stderr.String()
		if n := strings.Count(all, "rejected the source token"); n != 1 {
			t.Errorf("actions=%v: the error is printed %d times:\n%s", actions, n, all)
		}
		if strings.Contains(all, "0 mirrored") {
			t.Errorf("actions=%v: a tally before the failure:\n%s", actions, all)
		}
	}
}
