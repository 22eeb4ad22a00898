// Command gitee-mirror is the container Action (and command-line tool) that
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
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	a := &app{
		Args:   os.Args[1:],
		Getenv: os.Getenv,
		Getwd:  os.Getwd,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		Now:    time.Now,
		Sync:   mirror.Sync,
	}
	err := a.run(ctx)
	stop()
	os.Exit(exitCode(err))
}

// app holds everything a run takes from the outside world, so that tests can
// swap any of it.
type app struct {
	Args   []string            // command-line arguments, without the program name
	Getenv func(string) string // the environment
	Getwd  func() (string, error)
	Stdout io.Writer
	Stderr io.Writer
	Now    func() time.Time
	Sync   func(context.Context, mirror.Options) (*mirror.Result, error)
	// NewForge builds the API client of one side in account mode; nil
	// means newForge, the real GitHub and Gitee clients.
	NewForge func(context.Context, forgeSpec) (forge.Forge, error)
}

// newForge builds one side's client with NewForge or the real one.
func (a *app) newForge(ctx context.Context, s forgeSpec) (forge.Forge, error) {
	if a.NewForge != nil {
		return a.NewForge(ctx, s)
	}
	return newForge(ctx, s)
}
