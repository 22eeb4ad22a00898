package jobs

import (
	"context"

	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// Runner does the work behind the jobs. DefaultRunner is the App's; tests
// use fakes.
type Runner interface {
	// Sync mirrors m once. Per-ref problems are in the Result; the error is
	// a *failure.Error when the sync as a whole failed (a partial Result
	// may come with it). ctx carries the sync timeout.
	Sync(ctx context.Context, m *store.Mirror) (*mirror.Result, error)
	// ApplyConfig reads the repository's .github/gitee-mirror.yml and
	// creates, updates and deletes its file-sourced mirrors to match.
	// Errors are *failure.Error; transient ones are retried.
	ApplyConfig(ctx context.Context, installationID, repoID int64, owner, name string) error
}
