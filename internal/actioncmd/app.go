// Package actioncmd is the container Action and command-line tool: it
// mirrors the branches and tags of one Git repository to another, e.g. from
// GitHub to Gitee, or of every repository of an account (source
// github/OWNER or gitee/OWNER) to the same-named repositories of another,
// creating missing ones (account.go).
//
// Inside GitHub Actions it reads its inputs from the step's `with:` block;
// elsewhere it takes the same inputs as flags (--destination, --branches, …).
// Tokens come only from the environment (SOURCE_TOKEN, DESTINATION_TOKEN,
// GITHUB_TOKEN, or the INPUT_… variables Actions sets), never from flags.
// See action.yml for the inputs and outputs, and exit.go for the exit codes.
//
// The command's main (action/main.go) only hands it the process's
// arguments, environment and streams, as cli/cli's cmd/gh does with
// internal/ghcmd; tests drive App directly.
package actioncmd

import (
	"context"
	"io"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// App holds everything a run takes from the outside world, so that tests can
// swap any of it.
type App struct {
	Args   []string            // command-line arguments, without the program name
	Getenv func(string) string // the environment
	Getwd  func() (string, error)
	Stdout io.Writer
	Stderr io.Writer
	Now    func() time.Time
	// Sync is the sync core; nil means mirror.Sync.
	Sync func(context.Context, mirror.Options) (*mirror.Result, error)
	// NewForge builds the API client of one side in account mode; nil
	// means newForge, the real GitHub and Gitee clients.
	NewForge func(context.Context, forgeSpec) (forge.Forge, error)
	// Terminal says that Stderr is a terminal: progress is then one line
	// that rewrites itself, instead of a log line every 10 s.
	Terminal bool
	// Tick returns a ticker's channel and its stop function; nil means a
	// real time.Ticker. Tests drive the progress display with it.
	Tick func(time.Duration) (<-chan time.Time, func())
}

// Main runs once and returns the process exit status (see exit.go). Every
// error has been printed by then.
func (a *App) Main(ctx context.Context) int {
	if a.Sync == nil {
		a.Sync = mirror.Sync
	}
	if a.Now == nil {
		a.Now = time.Now
	}
	return exitCode(a.run(ctx))
}

// newForge builds one side's client with NewForge or the real one.
func (a *App) newForge(ctx context.Context, s forgeSpec) (forge.Forge, error) {
	if a.NewForge != nil {
		return a.NewForge(ctx, s)
	}
	return newForge(ctx, s)
}
