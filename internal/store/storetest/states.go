package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

func testStates(t *testing.T, open Opener) {
	t.Run("TakenOnce", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		exp := time.Now().Add(10 * time.Minute)
		noErr(t, "PutState", b.s.PutState(b.ctx, "k1", []byte("v1"), exp))
		noErr(t, "PutState", b.s.PutState(b.ctx, "k2", []byte{}, exp))
		wantErr(t, "PutState of a key in use", b.s.PutState(b.ctx, "k1", []byte("other"), exp), store.ErrConflict)
		v, err := b.s.TakeState(b.ctx, "k1")
		if err != nil || !bytes.Equal(v, []byte("v1")) {
			t.Errorf("TakeState = %q, %v; want v1", v, err)
		}
		_, err = b.s.TakeState(b.ctx, "k1")
		wantErr(t, "TakeState again", err, store.ErrNotFound)
		if v, err := b.s.TakeState(b.ctx, "k2"); err != nil || len(v) != 0 {
			t.Errorf("TakeState of an empty value = %q, %v", v, err)
		}
		_, err = b.s.TakeState(b.ctx, "never")
		wantErr(t, "TakeState of an unknown key", err, store.ErrNotFound)
	})

	t.Run("Expired", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		noErr(t, "PutState", b.s.PutState(b.ctx, "old", []byte("v"), time.Now().Add(-time.Second)))
		_, err := b.s.TakeState(b.ctx, "old")
		wantErr(t, "TakeState of an expired state", err, store.ErrNotFound)
		// An expired key is free again.
		noErr(t, "PutState", b.s.PutState(b.ctx, "old2", []byte("v"), time.Now().Add(-time.Second)))
		noErr(t, "PutState over an expired key", b.s.PutState(b.ctx, "old2", []byte("new"), time.Now().Add(time.Minute)))
		if v, err := b.s.TakeState(b.ctx, "old2"); err != nil || string(v) != "new" {
			t.Errorf("TakeState = %q, %v; want new", v, err)
		}
	})

	t.Run("SurvivesReopen", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		noErr(t, "PutState", b.s.PutState(b.ctx, "k", []byte("v"), time.Now().Add(time.Minute)))
		noErr(t, "Close", b.s.Close())
		r := &bundle{ctx: t.Context(), s: open(t, true)}
		if v, err := r.s.TakeState(r.ctx, "k"); err != nil || string(v) != "v" {
			t.Errorf("TakeState after reopen = %q, %v", v, err)
		}
	})

	t.Run("ConcurrentTake", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		noErr(t, "PutState", b.s.PutState(b.ctx, "k", []byte("v"), time.Now().Add(time.Minute)))
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { _, errs[i] = b.s.TakeState(b.ctx, "k") })
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
			} else if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("TakeState: %v", err)
			}
		}
		if won != 1 {
			t.Errorf("%d of %d concurrent TakeState calls got the value, want 1", won, n)
		}
	})

	t.Run("Many", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		for i := range 50 {
			noErr(t, "PutState", b.s.PutState(b.ctx, fmt.Sprint("k", i), []byte{byte(i)}, time.Now().Add(time.Minute)))
		}
		for i := range 50 {
			if v, err := b.s.TakeState(b.ctx, fmt.Sprint("k", i)); err != nil || len(v) != 1 || v[0] != byte(i) {
				t.Fatalf("TakeState(k%d) = %v, %v", i, v, err)
			}
		}
	})
}
