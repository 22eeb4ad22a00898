package webhook

import (
	"context"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// Queue is what intake needs from the job queue (jobs.Queue satisfies it).
// Both calls only record work; they must return quickly.
type Queue interface {
	// RequestSync asks for a sync of one mirror; hints coalesce. With
	// resume, a mirror paused after failures is resumed.
	RequestSync(ctx context.Context, mirrorID int64, trigger store.Trigger, resume bool) error
	// ApplyConfig asks for the repository's .github/gitee-mirror.yml to be
	// (re-)read with the installation's token and its mirrors updated.
	ApplyConfig(ctx context.Context, installationID, repoID int64, owner, name string) error
}
