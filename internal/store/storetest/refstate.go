package storetest

import (
	"maps"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

func testRefState(t *testing.T, open Opener) {
	t.Run("Replace", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		b.installation(t, 1)
		m := b.mirror(t, newMirror(1, 1, "a"))
		other := b.mirror(t, newMirror(1, 2, "a"))

		got, err := b.s.RefState(b.ctx, m.ID)
		noErr(t, "RefState", err)
		if len(got) != 0 {
			t.Errorf("RefState of a new mirror = %v", got)
		}

		steps := []map[string]string{
			{"refs/heads/main": "1111", "refs/heads/dev": "2222", "refs/tags/v1": "3333"},
			{"refs/heads/main": "4444", "refs/tags/v2": "5555"}, // dev and v1 gone, main moved
			{},
			{"refs/heads/only": "6666"},
		}
		otherState := map[string]string{"refs/heads/main": "9999"}
		noErr(t, "SaveRefState other", b.s.SaveRefState(b.ctx, other.ID, otherState))
		for i, want := range steps {
			noErr(t, "SaveRefState", b.s.SaveRefState(b.ctx, m.ID, want))
			got, err := b.s.RefState(b.ctx, m.ID)
			noErr(t, "RefState", err)
			if !maps.Equal(got, want) {
				t.Errorf("step %d: RefState = %v, want %v", i, got, want)
			}
		}
		noErr(t, "SaveRefState nil", b.s.SaveRefState(b.ctx, m.ID, nil))
		if got, err := b.s.RefState(b.ctx, m.ID); err != nil || len(got) != 0 {
			t.Errorf("RefState after saving nil = %v, %v", got, err)
		}
		if got, err := b.s.RefState(b.ctx, other.ID); err != nil || !maps.Equal(got, otherState) {
			t.Errorf("other mirror's RefState = %v, %v; want %v", got, err, otherState)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		_, err := b.s.RefState(b.ctx, 1)
		wantErr(t, "RefState", err, store.ErrNotFound)
		wantErr(t, "SaveRefState", b.s.SaveRefState(b.ctx, 1, map[string]string{"refs/heads/a": "1"}), store.ErrNotFound)
		wantErr(t, "SaveRefState empty", b.s.SaveRefState(b.ctx, 1, nil), store.ErrNotFound)
	})
}
