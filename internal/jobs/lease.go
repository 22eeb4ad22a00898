package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/logkey"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// A running sync holds a lease on its mirror (store.Leases), renewed every
// LeaseRenew while it runs and released when it ends. When its process
// dies the lease lapses within LeaseTTL; the sweeper of any live process
// (sweep.go) then finds the job still marked running, finalizes it and
// enqueues a fresh one, so the mirror is synced again within seconds rather
// than after River's stuck-job rescue (SyncTimeout + 5 min). The lease is
// also what keeps two syncs of one mirror apart should a worker that was
// taken for dead still run: it cannot renew a lease someone else took,
// and it stops.

// errLeaseLost ends a sync whose lease was taken over.
var errLeaseLost = errors.New("this sync's lease on its mirror lapsed and was taken over")

// leaseLostMessage is recorded for a sync that stopped because it lost its
// lease.
const leaseLostMessage = "interrupted: this sync could not renew its lease on the mirror in time (the database was unreachable, or the process stalled) and stopped; the mirror is synced again by another worker"

// newHolder names this process in leases: host, process id and random
// bytes, so that a restarted process never passes for its predecessor.
func newHolder() string {
	host, _ := os.Hostname()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b))
}

// syncLease is the lease a worker holds for a sync job.
func (q *Queue) syncLease(mirrorID, jobID int64) store.Lease {
	return store.Lease{Key: mirrorKey(mirrorID), Holder: q.cfg.Holder, JobID: jobID}
}

// keepLease renews l every LeaseRenew until the returned stop is called,
// which then releases it. The returned context is cancelled with
// errLeaseLost when the lease was taken over, or when no renewal succeeded
// for long enough that it may have lapsed: the sync must stop, someone
// else is about to run it.
func (q *Queue) keepLease(ctx context.Context, log *slog.Logger, l store.Lease) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(q.cfg.LeaseRenew)
		defer t.Stop()
		renewed := time.Now()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			// A renewal may wait for a busy database up to half the
			// lease: later than that it is no use anyway.
			rctx, rcancel := context.WithTimeout(ctx, q.cfg.LeaseTTL/2)
			err := q.cfg.Store.RenewLease(rctx, l, q.cfg.LeaseTTL)
			rcancel()
			switch {
			case err == nil:
				renewed = time.Now()
			case errors.Is(err, store.ErrLeaseLost):
				log.Warn("sync lost its lease; stopping it", slog.Any(logkey.Error, err))
				cancel(errLeaseLost)
				return
			case ctx.Err() != nil:
				return
			case time.Since(renewed) >= q.cfg.LeaseTTL-q.cfg.LeaseRenew:
				// The next try would come after the lease lapsed.
				log.Warn("sync could not renew its lease in time; stopping it", slog.Any(logkey.Error, err))
				cancel(errLeaseLost)
				return
			default:
				log.Warn("could not renew a sync's lease; trying again", slog.Any(logkey.Error, err))
			}
		}
	}()
	return ctx, func() {
		close(done)
		<-stopped
		cancel(nil)
		bg, c := afterwards(ctx)
		defer c()
		if err := q.cfg.Store.ReleaseLease(bg, l); err != nil {
			// It lapses by itself.
			log.Warn("could not release a sync's lease", slog.Any(logkey.Error, err))
		}
	}
}

// leaseLost reports whether ctx ended because its sync lost its lease.
func leaseLost(ctx context.Context) bool {
	return errors.Is(context.Cause(ctx), errLeaseLost)
}
