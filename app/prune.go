package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

const (
	// keepDeliveries is how long delivery ids are kept for deduplication:
	// GitHub lets people redeliver deliveries of the past three days.
	keepDeliveries = 7 * 24 * time.Hour
	pruneEvery     = time.Hour
)

// pruneDeliveries drops old handled webhook deliveries every hour until ctx
// ends.
func pruneDeliveries(ctx context.Context, inbox store.Inbox, log *slog.Logger) {
	t := time.NewTicker(pruneEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if err := inbox.Prune(ctx, now.Add(-keepDeliveries)); err != nil && ctx.Err() == nil {
				log.Warn("error pruning old webhook delivery ids", "error", err)
			}
		}
	}
}
