package actioncmd

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

var actionsArgs []string // a docker action gets no arguments

func TestExitCodes(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		args    []string
		env     map[string]string
		res     *mirror.Result
		err     error
		want    int
		stderr  string // part of what a terminal user sees on stderr
		noCalls bool   // the sync must not run
	}{
		"all in sync":       {res: okResult(), want: exitOK},
		"nothing to do":     {res: &mirror.Result{NoOp: true}, want: exitOK},
		"nil result":        {want: exitOK},
		"dry run planned":   {res: &mirror.Result{Refs: []mirror.RefResult{{Ref: "refs/heads/main", Action: mirror.ActCreate, Outcome: mirror.Planned}}}, want: exitOK},
		"diverged ref":      {res: badResult(), want: exitRefs, stderr: "refs/heads/dev: diverged: the destination has commits"},
		"rejected ref":      {res: badResult(), want: exitRefs, stderr: "refs/heads/ci: rejected: permission: refusing"},
		"refs count":        {res: badResult(), want: exitRefs, stderr: "2 refs are not in sync"},
		"whole sync failed": {err: failure.New(failure.Auth, "the destination token was refused"), want: exitSync, stderr: "auth: the destination token was refused"},
		"wrapped failure":   {err: fmt.Errorf("syncing: %w", failure.New(failure.NotFound, "gone")), want: exitSync, stderr: "gitee-mirror: syncing: not-found: gone"},
		"unclassified":      {err: errors.New("boom"), want: exitSync, stderr: "internal: boom"},
		"partial result":    {res: badResult(), err: failure.New(failure.Network, "connection reset"), want: exitSync, stderr: "network: connection reset"},
		"bad input":         {args: []string{"--destination=gitee/o/r", "--prune=perhaps"}, want: exitUsage, stderr: `invalid input "prune"`, noCalls: true},
		"help":              {args: []string{"-h"}, want: exitOK, noCalls: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, false)
			b.env["GITHUB_REPOSITORY"] = "o/r"
			args := tt.args
			if args == nil {
				args = []string{"--destination=gitee/o/r"}
			}
			if got := b.run(t, args, tt.res, tt.err); got != tt.want {
				t.Errorf("exit code %d, want %d; stderr:\n%s", got, tt.want, &b.stderr)
			}
			if !strings.Contains(b.stderr.String(), tt.stderr) {
				t.Errorf("stderr does not contain %q:\n%s", tt.stderr, &b.stderr)
			}
			if got := len(b.calls); (got == 0) != tt.noCalls {
				t.Errorf("sync called %d times", got)
			}
		})
	}
}

func TestExitCodeMapping(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		err  error
		want int
	}{
		"nil":     {nil, exitOK},
		"help":    {flag.ErrHelp, exitOK},
		"input":   {inputErrorf("force", "bad"), exitUsage},
		"sync":    {&syncError{err: errors.New("x")}, exitSync},
		"refs":    {&refsError{n: 2}, exitRefs},
		"wrapped": {fmt.Errorf("ctx: %w", &refsError{n: 1}), exitRefs},
		"other":   {errors.New("disk full"), exitInternal},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := exitCode(tt.err); got != tt.want {
				t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestActionsOutputs(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		res               *mirror.Result
		err               error
		changed, diverged string
		wantExit          int
		annotations       []string
	}{
		"ok":     {res: okResult(), changed: "4", diverged: "0", wantExit: exitOK},
		"bad":    {res: badResult(), changed: "4", diverged: "1", wantExit: exitRefs, annotations: []string{"::error title=gitee-mirror%3A refs/heads/dev::refs/heads/dev: diverged", "::error title=gitee-mirror%3A refs/heads/ci::refs/heads/ci: rejected: permission", "::error title=gitee-mirror%3A refs not in sync::2 refs"}},
		"failed": {err: failure.New(failure.Auth, "bad token"), changed: "0", diverged: "0", wantExit: exitSync, annotations: []string{"::error title=gitee-mirror%3A sync failed::auth: bad token"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, true)
			b.env["INPUT_DESTINATION"] = "gitee/octo/repo"
			if got := b.run(t, actionsArgs, tt.res, tt.err); got != tt.wantExit {
				t.Fatalf("exit %d, want %d; stdout:\n%s", got, tt.wantExit, &b.stdout)
			}
			out := b.outputs(t)
			if out["changed"] != tt.changed || out["diverged"] != tt.diverged {
				t.Errorf("outputs changed=%q diverged=%q, want %q %q", out["changed"], out["diverged"], tt.changed, tt.diverged)
			}
			if got, want := out["report"], "gitee-mirror-report-mirror.json"; got != want {
				t.Errorf("report output %q, want %q (relative to the workspace)", got, want)
			}
			if _, err := os.Stat(filepath.Join(b.env["GITHUB_WORKSPACE"], out["report"])); err != nil {
				t.Errorf("report file: %v", err)
			}
			for _, a := range tt.annotations {
				if !strings.Contains(b.stdout.String(), a) {
					t.Errorf("stdout lacks annotation %q:\n%s", a, &b.stdout)
				}
			}
			if got := len(b.calls); got != 1 {
				t.Errorf("sync called %d times", got)
			}
			if got, want := b.calls[0].Source.URL, "https://github.com/octo/repo.git"; got != want {
				t.Errorf("default source %q, want %q", got, want)
			}
		})
	}
}

func TestStepSummary(t *testing.T) {
	t.Parallel()
	b := setup(t, true)
	b.env["INPUT_DESTINATION"] = "gitee/octo/repo"
	b.run(t, actionsArgs, badResult(), nil)
	sum := b.file(t, b.env["GITHUB_STEP_SUMMARY"])
	for _, want := range []string{
		"https://github.com/octo/repo.git → https://gitee.com/octo/repo.git",
		"| Ref | Outcome | Source | Target | Message |",
		"| refs/heads/main | updated | 2222222 | 1111111 |  |",
		"| refs/tags/v1 | created | 3333333 | - |  |",
		"| refs/heads/gone | deleted | - | 1111111 |  |",
		"| refs/heads/rewritten | overwritten | 3333333 | 2222222 | backup: refs/mirror-backup/heads/rewritten/2222222 |",
		"| refs/heads/dev | diverged | 2222222 | 3333333 | the destination has commits the source lacks |",
		"| refs/heads/ci | rejected | 2222222 | 1111111 | permission: refusing to allow a token to update workflow files |",
		"4 changed, 1 diverged, 1 already in sync",
		"Backups created on the destination:\n\n- refs/mirror-backup/heads/rewritten/2222222\n",
	} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
	if strings.Contains(sum, "refs/heads/stable") {
		t.Errorf("summary lists an unchanged ref:\n%s", sum)
	}
}

func TestSummaryEscapesRefNames(t *testing.T) {
	t.Parallel()
	rep := &report{Result: &mirror.Result{Refs: []mirror.RefResult{
		{Ref: "refs/heads/a|b<script>`x`", Outcome: mirror.Created, Source: sha1},
	}}}
	got := markdown(rep, newRedactor(nil))
	if want := `| refs/heads/a\|b&lt;script&gt;\` + "`x\\`" + ` | created |`; !strings.Contains(got, want) {
		t.Errorf("markdown lacks %q:\n%s", want, got)
	}
}

func TestPlainOutput(t *testing.T) {
	t.Parallel()
	b := setup(t, false)
	b.env["GITHUB_REPOSITORY"] = "octo/repo"
	if got := b.run(t, []string{"--destination", "gitee/octo/repo", "--dry-run"}, badResult(), nil); got != exitRefs {
		t.Fatalf("exit %d", got)
	}
	out := b.stdout.String()
	for _, want := range []string{
		"Mirroring https://github.com/octo/repo.git to https://gitee.com/octo/repo.git (dry run)",
		"REF", "OUTCOME", "MESSAGE",
		"refs/heads/main",
		"4 changed, 1 diverged, 1 already in sync (dry run: nothing was written)",
		"backup: refs/mirror-backup/heads/rewritten/2222222",
		"Report: " + filepath.Join(b.dir, "gitee-mirror-report.json"),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+b.stderr.String(), "::") {
		t.Errorf("workflow commands outside Actions:\n%s\n%s", out, &b.stderr)
	}
	if !b.calls[0].DryRun {
		t.Error("dry-run not passed to the sync")
	}
}

func TestReportJSON(t *testing.T) {
	t.Parallel()
	b := setup(t, false)
	b.env["GITHUB_REPOSITORY"] = "octo/repo"
	b.run(t, []string{"--destination=gitee/octo/repo"}, badResult(), failure.New(failure.Network, "connection reset"))
	data := b.file(t, filepath.Join(b.dir, "gitee-mirror-report.json"))
	var got struct {
		Source, Destination string
		OK                  bool
		Changed, Diverged   int
		Error               struct{ Class, Message string }
		FinishedAt          string `json:"finished_at"`
		Refs                []mirror.RefResult
		Backups             []string
	}
	if err := json.Unmarshal([]byte(data), &got); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if got.Source != "https://github.com/octo/repo.git" || got.Destination != "https://gitee.com/octo/repo.git" {
		t.Errorf("source, destination = %q, %q", got.Source, got.Destination)
	}
	if got.OK || got.Changed != 4 || got.Diverged != 1 {
		t.Errorf("ok, changed, diverged = %v, %d, %d", got.OK, got.Changed, got.Diverged)
	}
	if got.Error.Class != "network" || !strings.Contains(got.Error.Message, "connection reset") {
		t.Errorf("error = %+v", got.Error)
	}
	if got.FinishedAt != "2025-01-02T03:04:05Z" {
		t.Errorf("finished_at = %q", got.FinishedAt)
	}
	want := badResult()
	if len(got.Refs) != len(want.Refs) {
		t.Fatalf("%d refs in the report, want %d (every ref, unchanged too)", len(got.Refs), len(want.Refs))
	}
	for i, r := range got.Refs {
		if r != want.Refs[i] {
			t.Errorf("ref %d = %+v, want %+v", i, r, want.Refs[i])
		}
	}
	if len(got.Backups) != 1 {
		t.Errorf("backups = %q", got.Backups)
	}
}

func TestReportWriteFailure(t *testing.T) {
	t.Parallel()
	b := setup(t, false)
	b.env["GITHUB_REPOSITORY"] = "octo/repo"
	a := b.app([]string{"--destination=gitee/octo/repo"}, okResult(), nil)
	a.Getwd = func() (string, error) { return filepath.Join(b.dir, "missing"), nil }
	if got := exitCode(a.run(t.Context())); got != exitInternal {
		t.Errorf("exit %d, want %d", got, exitInternal)
	}
	if !strings.Contains(b.stderr.String(), "writing the report") {
		t.Errorf("stderr: %s", &b.stderr)
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	b := setup(t, false)
	if got := b.run(t, []string{"--help"}, nil, nil); got != exitOK {
		t.Errorf("exit %d", got)
	}
	for _, want := range []string{"SOURCE_TOKEN", "DESTINATION_TOKEN", "-destination", "-dry-run"} {
		if !strings.Contains(b.stdout.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, &b.stdout)
		}
	}
	if b.stderr.Len() != 0 {
		t.Errorf("stderr: %s", &b.stderr)
	}
}
