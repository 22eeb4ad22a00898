package storetest

import (
	"slices"
	"sync"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

func testRequestSync(t *testing.T, open Opener) {
	t.Run("Increments", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		b.installation(t, 1)
		m := b.mirror(t, newMirror(1, 1, "a"))
		other := b.mirror(t, newMirror(1, 2, "a"))
		for want := int64(1); want <= 3; want++ {
			got, err := b.s.RequestSync(b.ctx, m.ID, want%2 == 0)
			noErr(t, "RequestSync", err)
			if got != want {
				t.Errorf("RequestSync = %d, want %d", got, want)
			}
		}
		if got := b.get(t, m.ID).RequestSeq; got != 3 {
			t.Errorf("RequestSeq = %d, want 3", got)
		}
		if got := b.get(t, other.ID).RequestSeq; got != 0 {
			t.Errorf("other mirror's RequestSeq = %d, want 0", got)
		}
		_, err := b.s.RequestSync(b.ctx, m.ID+100, true)
		wantErr(t, "RequestSync of unknown mirror", err, store.ErrNotFound)
	})

	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		b.installation(t, 1)
		m := b.mirror(t, newMirror(1, 1, "a"))
		start, err := b.s.RequestSync(b.ctx, m.ID, false)
		noErr(t, "RequestSync", err)

		const n = 20
		seqs := make([]int64, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { seqs[i], errs[i] = b.s.RequestSync(b.ctx, m.ID, i%2 == 0) })
		}
		wg.Wait()
		for _, err := range errs {
			noErr(t, "concurrent RequestSync", err)
		}
		slices.Sort(seqs)
		for i, seq := range seqs {
			if want := start + 1 + int64(i); seq != want {
				t.Fatalf("concurrent RequestSync returned %v, want each of %d..%d once", seqs, start+1, start+n)
			}
		}
		if got := b.get(t, m.ID).RequestSeq; got != start+n {
			t.Errorf("RequestSeq = %d, want %d", got, start+n)
		}
	})
}
