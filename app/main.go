// Command app is the gitee-mirror GitHub App server: webhook intake, the
// durable job queue that runs syncs, and the pages. Configuration comes from
// GITEE_MIRROR_* environment variables (see internal/config); with none set
// it starts with an SQLite database under ./data and a front page that says
// what to configure.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, env{Getenv: os.Getenv, Environ: os.Environ, Log: os.Stderr}); err != nil {
		fmt.Fprintln(os.Stderr, "gitee-mirror:", err)
		stop()
		os.Exit(1)
	}
}
