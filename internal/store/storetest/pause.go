package storetest

import (
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// wantPause fails unless m's pause fields are as given.
func wantPause(t *testing.T, m *store.Mirror, paused, byFailures bool, reason string, failures int) {
	t.Helper()
	if m.Paused != paused || m.PausedByFailures != byFailures || m.PausedReason != reason || m.ConsecutiveFailures != failures {
		t.Errorf("mirror %d: Paused %v, PausedByFailures %v, PausedReason %q, ConsecutiveFailures %d; want %v, %v, %q, %d",
			m.ID, m.Paused, m.PausedByFailures, m.PausedReason, m.ConsecutiveFailures, paused, byFailures, reason, failures)
	}
	if paused && m.Status != store.StatusPaused {
		t.Errorf("mirror %d: paused, but Status = %q", m.ID, m.Status)
	}
}

func testPause(t *testing.T, open Opener) {
	t.Run("ByPerson", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		b.installation(t, 1)
		m := b.mirror(t, newMirror(1, 1, "a"))
		b.run(t, m.ID, "failed")
		b.run(t, m.ID, "failed")

		noErr(t, "SetPaused", b.s.SetPaused(b.ctx, m.ID, true, "on holiday"))
		wantPause(t, b.get(t, m.ID), true, false, "on holiday", 2)

		// A new push does not resume what a person paused.
		seq, err := b.s.RequestSync(b.ctx, m.ID, true)
		noErr(t, "RequestSync", err)
		got := b.get(t, m.ID)
		wantPause(t, got, true, false, "on holiday", 2)
		if got.RequestSeq != seq {
			t.Errorf("RequestSeq = %d, want %d", got.RequestSeq, seq)
		}

		noErr(t, "SetPaused(false)", b.s.SetPaused(b.ctx, m.ID, false, ""))
		got = b.get(t, m.ID)
		wantPause(t, got, false, false, "", 0)
		if got.Status != store.StatusFailing {
			t.Errorf("Status after resume = %q, want the last sync's %q", got.Status, store.StatusFailing)
		}
		wantErr(t, "SetPaused of unknown mirror", b.s.SetPaused(b.ctx, m.ID+100, true, ""), store.ErrNotFound)
	})

	t.Run("RequestSyncs", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		b.installation(t, 1)
		a := b.mirror(t, newMirror(1, 1, "a"))
		c := b.mirror(t, newMirror(1, 2, "c"))
		before, err := b.s.RequestSync(b.ctx, c.ID, false)
		noErr(t, "RequestSync", err)
		for range 3 {
			b.run(t, a.ID, "failed")
		}
		noErr(t, "PauseAfterFailures", b.s.PauseAfterFailures(b.ctx, a.ID, "timeout"))
		noErr(t, "SetPaused", b.s.SetPaused(b.ctx, c.ID, true, "on holiday"))

		// Without resume: counted, both still paused.
		gone := c.ID + 100
		seqs, err := b.s.RequestSyncs(b.ctx, []int64{a.ID, gone, c.ID}, false)
		noErr(t, "RequestSyncs(resume=false)", err)
		if len(seqs) != 2 || seqs[c.ID] != before+1 || seqs[a.ID] != b.get(t, a.ID).RequestSeq {
			t.Errorf("RequestSyncs = %v, want mirror %d at %d and mirror %d at its RequestSeq, the unknown %d left out",
				seqs, c.ID, before+1, a.ID, gone)
		}
		wantPause(t, b.get(t, a.ID), true, true, "timeout", 3)

		// With resume: the pause after failures ends, a person's stays.
		seqs, err = b.s.RequestSyncs(b.ctx, []int64{a.ID, c.ID}, true)
		noErr(t, "RequestSyncs(resume=true)", err)
		wantPause(t, b.get(t, a.ID), false, false, "", 0)
		wantPause(t, b.get(t, c.ID), true, false, "on holiday", 0)
		if got := b.get(t, c.ID).RequestSeq; seqs[c.ID] != got || got != before+2 {
			t.Errorf("RequestSeq of mirror %d = %d (answered %d), want %d", c.ID, got, seqs[c.ID], before+2)
		}

		seqs, err = b.s.RequestSyncs(b.ctx, nil, true)
		noErr(t, "RequestSyncs of none", err)
		if len(seqs) != 0 {
			t.Errorf("RequestSyncs of none = %v", seqs)
		}
	})

	t.Run("AfterFailures", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		b.installation(t, 1)
		m := b.mirror(t, newMirror(1, 1, "a"))
		for range 5 {
			b.run(t, m.ID, "failed")
		}
		noErr(t, "PauseAfterFailures", b.s.PauseAfterFailures(b.ctx, m.ID, "connection reset"))
		wantPause(t, b.get(t, m.ID), true, true, "connection reset", 5)

		// Reconcile and "Sync now" hints (no resume) leave it paused.
		_, err := b.s.RequestSync(b.ctx, m.ID, false)
		noErr(t, "RequestSync(resume=false)", err)
		wantPause(t, b.get(t, m.ID), true, true, "connection reset", 5)

		// A new push resumes it.
		_, err = b.s.RequestSync(b.ctx, m.ID, true)
		noErr(t, "RequestSync(resume=true)", err)
		got := b.get(t, m.ID)
		wantPause(t, got, false, false, "", 0)
		if got.Status != store.StatusFailing {
			t.Errorf("Status after resume = %q, want %q", got.Status, store.StatusFailing)
		}
		if got.LastError != "connection reset" {
			t.Errorf("LastError after resume = %q, want it kept", got.LastError)
		}
		wantErr(t, "PauseAfterFailures of unknown mirror", b.s.PauseAfterFailures(b.ctx, m.ID+100, ""), store.ErrNotFound)
	})

	t.Run("PersonWins", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		b.installation(t, 1)

		// Paused by a person, then a sync that was running fails out.
		m := b.mirror(t, newMirror(1, 1, "a"))
		noErr(t, "SetPaused", b.s.SetPaused(b.ctx, m.ID, true, "person"))
		noErr(t, "PauseAfterFailures", b.s.PauseAfterFailures(b.ctx, m.ID, "failures"))
		wantPause(t, b.get(t, m.ID), true, false, "person", 0)
		_, err := b.s.RequestSync(b.ctx, m.ID, true)
		noErr(t, "RequestSync", err)
		wantPause(t, b.get(t, m.ID), true, false, "person", 0)

		// Paused after failures, then a person pauses it too.
		n := b.mirror(t, newMirror(1, 2, "a"))
		noErr(t, "PauseAfterFailures", b.s.PauseAfterFailures(b.ctx, n.ID, "failures"))
		noErr(t, "SetPaused", b.s.SetPaused(b.ctx, n.ID, true, "person"))
		_, err = b.s.RequestSync(b.ctx, n.ID, true)
		noErr(t, "RequestSync", err)
		wantPause(t, b.get(t, n.ID), true, false, "person", 0)
	})

	t.Run("FinishRunWhilePaused", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		b.installation(t, 1)
		m := b.mirror(t, newMirror(1, 1, "a"))
		b.run(t, m.ID, "failed")
		noErr(t, "SetPaused", b.s.SetPaused(b.ctx, m.ID, true, "person"))
		if n := b.run(t, m.ID, "ok"); n != 0 {
			t.Errorf("failures after ok = %d", n)
		}
		wantPause(t, b.get(t, m.ID), true, false, "person", 0)
		noErr(t, "SetPaused(false)", b.s.SetPaused(b.ctx, m.ID, false, ""))
		if got := b.get(t, m.ID); got.Status != store.StatusInSync {
			t.Errorf("Status after resume = %q, want %q", got.Status, store.StatusInSync)
		}
	})

	t.Run("SetStatus", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		b.installation(t, 1)
		m := b.mirror(t, newMirror(1, 1, "a"))
		b.run(t, m.ID, "failed")
		before := b.get(t, m.ID)
		if !before.SyncStartedAt.IsZero() {
			t.Errorf("SyncStartedAt = %s before any sync started, want zero", before.SyncStartedAt)
		}
		t0 := time.Now()
		noErr(t, "SetStatus", b.s.SetStatus(b.ctx, m.ID, store.StatusSyncing))
		got := b.get(t, m.ID)
		if got.Status != store.StatusSyncing {
			t.Errorf("Status = %q, want %q", got.Status, store.StatusSyncing)
		}
		// The sync spacing counts from it, on every replica.
		started := got.SyncStartedAt
		if started.Before(t0.Add(-time.Second)) || started.After(time.Now().Add(time.Second)) {
			t.Errorf("SyncStartedAt = %s after SetStatus(syncing) at %s, want then", started, t0)
		}
		noErr(t, "SetStatus", b.s.SetStatus(b.ctx, m.ID, store.StatusInSync))
		if again := b.get(t, m.ID); !sameTime(again.SyncStartedAt, started) {
			t.Errorf("SetStatus(in sync) moved SyncStartedAt from %s to %s; only a sync's start sets it", started, again.SyncStartedAt)
		}
		got.Status, got.SyncStartedAt = before.Status, before.SyncStartedAt
		if got.ConsecutiveFailures != before.ConsecutiveFailures || got.LastError != before.LastError ||
			got.RequestSeq != before.RequestSeq || !sameTime(got.LastSyncAt, before.LastSyncAt) ||
			!sameTime(got.UpdatedAt, before.UpdatedAt) || got.Paused != before.Paused {
			t.Errorf("SetStatus touched more:\n got %+v\nwant %+v", got, before)
		}
	})
}
