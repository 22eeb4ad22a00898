package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/logkey"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// How a running sync's progress is shown. The sync core hands every change
// of its transfer to the observer, from the goroutines moving the pack: it
// only keeps the newest snapshot. A ticker writes that snapshot to the
// store every ProgressEvery when it changed (so the pages of every replica
// show it; a stalled one every ProgressLogEvery) and logs it every
// ProgressLogEvery from the sync's start. A sync that ends before the
// first tick leaves no trace.
const (
	DefaultProgressEvery    = 2 * time.Second
	DefaultProgressLogEvery = 10 * time.Second
)

// newTicker is the real ticker: DefaultRunner.tick's default.
func newTicker(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTicker(d)
	return t.C, t.Stop
}

// watchProgress starts watching m's sync: observe goes into
// mirror.Options.Progress, stop ends the watch once the sync returned (and
// clears what it stored).
func (r *DefaultRunner) watchProgress(ctx context.Context, log *slog.Logger, m *store.Mirror) (observe func(mirror.Progress), stop func()) {
	started := r.now()
	var latest atomic.Pointer[mirror.Progress]
	ticks, stopTick := r.tick(r.cfg.ProgressEvery)
	done, finished := make(chan struct{}), make(chan struct{})
	var stored atomic.Bool
	go func() {
		defer close(finished)
		var written *mirror.Progress
		wroteAt, logged := started, started
		for {
			select {
			case <-done:
				return
			case <-ticks:
			}
			p, now := latest.Load(), r.now()
			if p == nil {
				continue // the transfer has not started
			}
			// A stalled transfer is written again now and then, so that the
			// page's elapsed time stays true.
			if p != written || now.Sub(wroteAt) >= r.cfg.ProgressLogEvery {
				written, wroteAt = p, now
				sp := progressRow(m.ID, started, p)
				if err := r.cfg.Store.SetProgress(ctx, sp); err != nil {
					log.Warn("could not store the sync's progress", slog.Any(logkey.Error, err))
				} else {
					stored.Store(true)
				}
			}
			if now.Sub(logged) >= r.cfg.ProgressLogEvery {
				logged = now
				shown := progressRow(m.ID, started, p) // timed by the core's clock
				log.Info("sync in progress: "+ProgressText(shown),
					slog.String(logkey.Phase, shown.Phase), slog.Int64(logkey.Objects, shown.Objects),
					slog.Int64(logkey.ReceivedBytes, shown.Received), slog.Int64(logkey.SentBytes, shown.Sent),
					slog.Int64(logkey.Rate, int64(shown.Rate())), slog.Duration(logkey.Elapsed, p.Elapsed))
			}
		}
	}()
	observe = func(p mirror.Progress) { latest.Store(&p) }
	stop = func() {
		stopTick()
		close(done)
		<-finished
		if stored.Load() {
			bg, cancel := afterwards(ctx)
			defer cancel()
			if err := r.cfg.Store.ClearProgress(bg, m.ID); err != nil {
				log.Warn("could not clear the sync's progress", slog.Any(logkey.Error, err))
			}
		}
	}
	return observe, stop
}

// progressRow is p as the store keeps it.
func progressRow(mirrorID int64, started time.Time, p *mirror.Progress) *store.SyncProgress {
	return &store.SyncProgress{MirrorID: mirrorID, Phase: string(p.Phase), Objects: p.Objects,
		Received: p.Received, Sent: p.Sent, Remote: p.Remote, StartedAt: started, UpdatedAt: started.Add(p.Elapsed)}
}

// ProgressText is a sync's progress for people: "sending 1200 objects:
// 12.0 MiB received, 8.0 MiB sent, 2.0 MiB/s, 6s".
func ProgressText(p *store.SyncProgress) string {
	var b strings.Builder
	b.WriteString(p.Phase)
	if p.Objects > 0 {
		fmt.Fprintf(&b, " %d objects", p.Objects)
	}
	fmt.Fprintf(&b, ": %s received, %s sent, %s/s, %s", mirror.ByteSize(p.Received), mirror.ByteSize(p.Sent),
		mirror.ByteSize(int64(p.Rate())), p.Elapsed().Round(time.Second))
	if p.Remote != "" {
		fmt.Fprintf(&b, " (source: %s)", p.Remote)
	}
	return b.String()
}
