package storetest

import (
	"sync"
	"testing"
	"time"
)

func testDeliveries(t *testing.T, open Opener) {
	t.Run("Dedupe", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		record := func(source, id string, want bool) {
			t.Helper()
			first, err := b.s.RecordDelivery(b.ctx, source, id)
			noErr(t, "RecordDelivery", err)
			if first != want {
				t.Errorf("RecordDelivery(%s, %s) = %v, want %v", source, id, first, want)
			}
		}
		record("github", "d1", true)
		record("github", "d1", false)
		record("github", "d1", false)
		record("gitee", "d1", true) // the key is (source, id)
		record("github", "d2", true)

		noErr(t, "ForgetDelivery", b.s.ForgetDelivery(b.ctx, "github", "d1"))
		record("github", "d1", true)
		record("gitee", "d1", false)
		noErr(t, "ForgetDelivery of unknown id", b.s.ForgetDelivery(b.ctx, "github", "nope"))
	})

	t.Run("Prune", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		_, err := b.s.RecordDelivery(b.ctx, "github", "old")
		noErr(t, "RecordDelivery", err)

		noErr(t, "PruneDeliveries", b.s.PruneDeliveries(b.ctx, time.Now().Add(-time.Hour)))
		if first, err := b.s.RecordDelivery(b.ctx, "github", "old"); err != nil || first {
			t.Errorf("after pruning older ids: RecordDelivery = %v, %v; want a duplicate", first, err)
		}
		noErr(t, "PruneDeliveries", b.s.PruneDeliveries(b.ctx, time.Now().Add(time.Hour)))
		if first, err := b.s.RecordDelivery(b.ctx, "github", "old"); err != nil || !first {
			t.Errorf("after pruning: RecordDelivery = %v, %v; want first", first, err)
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		const n = 10
		firsts := make([]bool, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { firsts[i], errs[i] = b.s.RecordDelivery(b.ctx, "github", "same") })
		}
		wg.Wait()
		count := 0
		for i := range n {
			noErr(t, "RecordDelivery", errs[i])
			if firsts[i] {
				count++
			}
		}
		if count != 1 {
			t.Errorf("%d of %d concurrent RecordDelivery calls were first, want 1", count, n)
		}
	})
}
