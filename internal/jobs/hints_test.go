package jobs

import (
	"context"
	"maps"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// A push's hints reach the Runner on the first run of the job the push
// inserted, and not on its follow-up, which requests that joined it
// (other pushes) asked for.
func TestHintsReachTheFirstRunOnly(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	m := b.mirror(t, "widget")
	release := make(chan struct{})
	seen := make(chan map[string]string, 4)
	held := noopUntil(release)
	b.runner.onSync(func(ctx context.Context, m *store.Mirror) (*mirror.Result, error) {
		seen <- hintsFrom(ctx)
		return held(ctx, m)
	})
	first := map[string]string{"refs/heads/main": "1111111111111111111111111111111111111111"}
	if err := b.q.RequestSyncHinted(t.Context(), m.ID, store.TriggerPush, true, first); err != nil {
		t.Fatal(err)
	}
	b.runner.waitStarted(t)
	if got := <-seen; !maps.Equal(got, first) {
		t.Errorf("first run's hints = %v, want %v", got, first)
	}
	later := map[string]string{"refs/heads/main": "2222222222222222222222222222222222222222"}
	if err := b.q.RequestSyncHinted(t.Context(), m.ID, store.TriggerPush, true, later); err != nil {
		t.Fatal(err)
	}
	release <- struct{}{}
	b.runner.waitStarted(t)
	if got := <-seen; got != nil {
		t.Errorf("the follow-up's hints = %v, want none", got)
	}
	release <- struct{}{}
	b.waitFinal(t)
}
