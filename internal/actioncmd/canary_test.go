package actioncmd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// Canary tokens: distinctive strings that must never come out of a run.
const (
	canarySource = "canary-XYZ-source-5f2a9c"
	canaryDest   = "canary-XYZ-destination-8b1d3e"
	canaryGitHub = "canary-XYZ-github-0c7e4f"
)

var canaries = []string{canarySource, canaryDest, canaryGitHub}

// leakyResult is what a careless core might return: every message quotes a
// token. The Action must still print none of them.
func leakyResult() *mirror.Result {
	r := badResult()
	for i := range r.Refs {
		r.Refs[i].Message += " (auth " + canaryDest + ")"
	}
	r.Refs[0].Outcome = mirror.Failed
	r.Refs[0].Message = "push to https://x-access-token:" + canarySource + "@github.com failed"
	return r
}

func TestCanaryTokensNeverLeak(t *testing.T) {
	t.Parallel()
	leakyErr := fmt.Errorf("fetch with %s: %w", canarySource, failure.New(failure.Auth, "token %s refused", canaryDest))
	tests := map[string]struct {
		args []string
		res  *mirror.Result
		err  error
	}{
		"success":           {res: okResult()},
		"refs not in sync":  {res: badResult()},
		"leaky messages":    {res: leakyResult()},
		"whole sync failed": {err: failure.New(failure.Auth, "the destination token was refused")},
		"leaky error":       {res: leakyResult(), err: leakyErr},
		"bad input":         {args: []string{"--force=maybe"}},
		"token as a flag":   {args: []string{"--source-token=" + canarySource}},
		"token in url":      {args: []string{"--destination=https://me:" + canaryDest + "@gitee.com/o/r.git"}},
		"plain error":       {err: errors.New("dial tcp: " + canaryGitHub)},
	}
	for name, tt := range tests {
		for _, actions := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/actions=%v", name, actions), func(t *testing.T) {
				t.Parallel()
				b := setup(t, actions)
				b.env["GITHUB_REPOSITORY"] = "octo/repo"
				b.env["SOURCE_TOKEN"] = canarySource
				b.env["INPUT_DESTINATION-TOKEN"] = canaryDest
				b.env["INPUT_GITHUB-TOKEN"] = canaryGitHub
				args := append([]string{"--source=github/octo/repo", "--destination=gitee/octo/mirror"}, tt.args...)
				b.run(t, args, tt.res, tt.err)

				if len(b.calls) > 0 {
					if got := b.calls[0]; got.Source.Token != canarySource || got.Target.Token != canaryDest {
						t.Fatalf("tokens did not reach the sync: %q, %q", got.Source.Token, got.Target.Token)
					}
				}
				places, reports := b.outputPlaces(t, actions)
				if len(b.calls) > 0 && reports == 0 {
					t.Error("no report written")
				}
				checkNoCanary(t, places)
			})
		}
	}
}

// outputPlaces is every place a run writes to that a person or a later
// step can read: stdout (past the mask commands in Actions), stderr, the
// GITHUB_OUTPUT and step summary files, and every report. It returns them by
// name, with the number of reports among them. The canary tests of both
// modes check this one list, so a new output joins both at once.
func (b *testBundle) outputPlaces(t *testing.T, actions bool) (map[string]string, int) {
	t.Helper()
	stdout := b.stdout.String()
	if actions {
		stdout = withoutMasks(t, stdout)
	}
	places := map[string]string{"stdout": stdout, "stderr": b.stderr.String()}
	for _, env := range []string{"GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"} {
		if p := b.env[env]; p != "" {
			places[env] = b.file(t, p)
		}
	}
	reports, _ := filepath.Glob(filepath.Join(b.dir, "*", "gitee-mirror-report*.json"))
	top, _ := filepath.Glob(filepath.Join(b.dir, "gitee-mirror-report*.json"))
	for _, p := range append(reports, top...) {
		places[p] = b.file(t, p)
	}
	return places, len(reports) + len(top)
}

// checkNoCanary fails the test for every canary token found in places.
func checkNoCanary(t *testing.T, places map[string]string) {
	t.Helper()
	for where, text := range places {
		for _, c := range canaries {
			if strings.Contains(text, c) {
				t.Errorf("%s contains token %s:\n%s", where, c, text)
			}
		}
	}
}

// withoutMasks checks that stdout starts with one ::add-mask:: command per
// token, before anything else, and returns the rest: the mask commands are
// the one place a token must appear, since they tell the runner what to hide.
func withoutMasks(t *testing.T, stdout string) string {
	t.Helper()
	lines := strings.SplitAfter(stdout, "\n")
	if len(lines) < len(canaries) {
		t.Fatalf("stdout too short for %d masks:\n%s", len(canaries), stdout)
	}
	for i, c := range canaries {
		if got, want := lines[i], "::add-mask::"+c+"\n"; got != want {
			t.Errorf("stdout line %d = %q, want %q", i+1, got, want)
		}
	}
	return strings.Join(lines[len(canaries):], "")
}

func TestRedactor(t *testing.T) {
	t.Parallel()
	r := newRedactor([]string{"abc", "abcdef", ""})
	if got, want := r.String("x abcdef y abc z"), "x *** y *** z"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	var sb strings.Builder
	fmt.Fprint(r.Writer(&sb), "token=abcdef")
	if got, want := sb.String(), "token=***"; got != want {
		t.Errorf("Writer wrote %q, want %q", got, want)
	}
	if got := newRedactor(nil).String("abc"); got != "abc" {
		t.Errorf("empty redactor changed %q", got)
	}
}

// TestNoFilesOutsideActions: a terminal run writes its report and nothing
// else; no GITHUB_OUTPUT or summary is invented.
func TestNoFilesOutsideActions(t *testing.T) {
	t.Parallel()
	b := setup(t, false)
	b.env["GITHUB_REPOSITORY"] = "octo/repo"
	b.run(t, []string{"--destination=gitee/o/r"}, okResult(), nil)
	entries, err := os.ReadDir(b.dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 1 || names[0] != "gitee-mirror-report.json" {
		t.Errorf("files written: %q", names)
	}
}
