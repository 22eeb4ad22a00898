package jobs

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
)

// TestConfigRequestThroughAnotherQueue: a config re-read requested through
// another queue on the same database (another replica) while the
// repository's config job runs makes that job read the file again: the
// request count lives in the database, not in the memory of the queue
// that received it.
func TestConfigRequestThroughAnotherQueue(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	started, release := make(chan struct{}, 10), make(chan struct{})
	var calls atomic.Int32
	b.runner.mu.Lock()
	b.runner.applyFn = func(ctx context.Context, _, _ int64, _, _ string) error {
		if calls.Add(1) == 1 {
			started <- struct{}{}
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}
	b.runner.mu.Unlock()

	// The other replica: it takes requests, works no jobs.
	other, err := New(context.Background(), Config{DB: b.st.Jobs(), Store: b.st, Runner: newFakeRunner(), Logger: testLogger(t), ReconcileInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.q.ApplyConfig(context.Background(), installationID, 42, "acme", "widget"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-time.After(waitFor):
		t.Fatal("the config job never started")
	}
	if err := other.ApplyConfig(context.Background(), installationID, 42, "acme", "widget"); err != nil {
		t.Fatal(err)
	}
	close(release)
	for {
		ev := b.waitEvent(t, river.EventKindJobCompleted)
		if ev.Job.Kind == (ApplyConfigArgs{}).Kind() {
			break
		}
	}
	if got := calls.Load(); got != 2 {
		t.Errorf("the settings file was read %d times, want 2: the request through the other queue was lost", got)
	}
}
