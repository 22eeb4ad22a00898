package jobs

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/riverqueue/river"

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

// A push soon after the mirror's last sync started waits out the sync
// spacing (its job snoozes), and still brings its hints to the sync then,
// unless another request joined the job meanwhile: its hints may be stale
// by then, and the follow-up serves both.
func TestHintsSurviveTheSpacing(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		joined bool
	}{
		"alone: the hints reach the sync":             {},
		"another request joined: none reach the sync": {joined: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// Long enough for the second request to come within it on a
			// slow machine under -race, short enough to wait out.
			b := setup(t, func(c *Config) { c.SyncSpacing = 3 * time.Second })
			m := b.mirror(t, "widget")
			seen := make(chan map[string]string, 4)
			b.runner.onSync(func(ctx context.Context, _ *store.Mirror) (*mirror.Result, error) {
				seen <- hintsFrom(ctx)
				return noopResult(), nil
			})
			b.request(t, m.ID, store.TriggerPush, false)
			b.runner.waitStarted(t)
			<-seen
			b.waitFinal(t)
			hints := map[string]string{"refs/heads/main": "1111111111111111111111111111111111111111"}
			if err := b.q.RequestSyncHinted(t.Context(), m.ID, store.TriggerPush, false, hints); err != nil {
				t.Fatal(err)
			}
			b.waitEvent(t, river.EventKindJobSnoozed) // the spacing: the last sync started under 3 s ago
			if tt.joined {
				b.request(t, m.ID, store.TriggerPush, false)
			}
			b.runner.waitStarted(t)
			got := <-seen
			b.waitFinal(t)
			want := hints
			if tt.joined {
				want = nil
			}
			if !maps.Equal(got, want) {
				t.Errorf("hints after the spacing = %v, want %v", got, want)
			}
		})
	}
}
