// Command gitee-mirror is the container Action (and command-line tool) that
// mirrors the branches and tags of one Git repository to another, e.g. from
// GitHub to Gitee, or of every repository of an account. What it does lives
// in internal/actioncmd; this file hands it the process's arguments,
// environment and streams, and turns its result into the exit status.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/actioncmd"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	a := &actioncmd.App{
		Args:   os.Args[1:],
		Getenv: os.Getenv,
		Getwd:  os.Getwd,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		Now:    time.Now,
		Sync:   mirror.Sync,
		// Progress rewrites one line on a terminal, logs a line every 10 s
		// elsewhere.
		Terminal: isTerminal(os.Stderr),
	}
	code := a.Main(ctx)
	stop()
	os.Exit(code)
}

// isTerminal reports whether f is a character device, as a terminal is.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
