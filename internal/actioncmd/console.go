package actioncmd

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/sethvargo/go-githubactions"
)

// console is where a run reports: plain text in a terminal, workflow
// commands and files inside GitHub Actions. Everything it writes passes the
// redactor.
type console struct {
	actions bool // running inside GitHub Actions
	getenv  func(string) string
	red     *redactor
	stdout  io.Writer // redacting
	stderr  io.Writer // redacting
	gha     *githubactions.Action
}

// newConsole masks every token with the runner before it returns, so nothing
// can be printed before the masks are in place.
func newConsole(a *App, tokens []string) *console {
	red := newRedactor(tokens)
	c := &console{
		actions: a.Getenv("GITHUB_ACTIONS") == "true",
		getenv:  a.Getenv,
		red:     red,
		stdout:  red.Writer(a.Stdout),
		stderr:  red.Writer(a.Stderr),
	}
	c.gha = githubactions.New(githubactions.WithWriter(c.stdout), githubactions.WithGetenv(a.Getenv))
	if c.actions {
		// The one place a token is written: the ::add-mask:: command must
		// carry it, so it goes to the raw stdout, around the redactor.
		raw := githubactions.New(githubactions.WithWriter(a.Stdout), githubactions.WithGetenv(a.Getenv))
		for _, p := range maskPieces(tokens) {
			raw.AddMask(p)
		}
	}
	return c
}

// loggerTo returns the sync's progress logger writing to w (which must
// redact: the console's writers do); debug level
// when the workflow runs with debug logging on.
func (c *console) loggerTo(w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	if c.getenv("RUNNER_DEBUG") == "1" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// printf writes a line of plain text to stdout.
func (c *console) printf(format string, args ...any) {
	fmt.Fprintln(c.stdout, c.red.String(fmt.Sprintf(format, args...)))
}

// errorf reports a problem: an ::error:: annotation in Actions, a line on
// stderr elsewhere. Redacted before the command escapes it, since escaping
// could hide a token from the writer's redactor.
func (c *console) errorf(title, format string, args ...any) {
	msg := c.red.String(fmt.Sprintf(format, args...))
	if c.actions {
		c.gha.WithFieldsMap(map[string]string{"title": title}).Errorf("%s", msg)
		return
	}
	fmt.Fprintf(c.stderr, "gitee-mirror: %s\n", msg)
}

// warningf reports something worth a look that does not fail the run: a
// ::warning:: annotation in Actions, a line on stderr elsewhere.
func (c *console) warningf(format string, args ...any) {
	msg := c.red.String(fmt.Sprintf(format, args...))
	if c.actions {
		c.gha.Warningf("%s", msg)
		return
	}
	fmt.Fprintf(c.stderr, "gitee-mirror: warning: %s\n", msg)
}

// setOutput sets a step output; outside Actions (no GITHUB_OUTPUT) it does
// nothing.
func (c *console) setOutput(name, value string) error {
	if c.getenv("GITHUB_OUTPUT") == "" {
		return nil
	}
	return fileCommand(func() { c.gha.SetOutput(name, c.red.String(value)) })
}

// addSummary appends Markdown to the step summary, when there is one.
func (c *console) addSummary(markdown string) error {
	if c.getenv("GITHUB_STEP_SUMMARY") == "" {
		return nil
	}
	return fileCommand(func() { c.gha.AddStepSummary(c.red.String(markdown)) })
}

// fileCommand runs a go-githubactions file command, which panics when it
// cannot write its file, and returns that as an error instead.
func fileCommand(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("writing a GitHub Actions file: %v", r)
		}
	}()
	f()
	return nil
}

// oneLine folds a message onto one line for tables and annotations.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
