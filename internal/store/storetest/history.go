package storetest

import (
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// finish starts and finishes a run of mirrorID started at start.
func (b *bundle) finish(t *testing.T, mirrorID int64, trigger store.Trigger, outcome store.Outcome, start time.Time, refs ...mirror.RefResult) *store.SyncRun {
	t.Helper()
	r := &store.SyncRun{MirrorID: mirrorID, Trigger: trigger, StartedAt: start}
	noErr(t, "StartRun", b.s.StartRun(b.ctx, r))
	r.Outcome, r.Refs, r.FinishedAt = outcome, refs, start.Add(time.Second)
	_, err := b.s.FinishRun(b.ctx, r)
	noErr(t, "FinishRun", err)
	return r
}

// triggers lists a mirror's runs' triggers, newest first.
func (b *bundle) triggers(t *testing.T, mirrorID int64) []string {
	t.Helper()
	runs, err := b.s.ListRuns(b.ctx, mirrorID, 0)
	noErr(t, "ListRuns", err)
	out := make([]string, len(runs))
	for i, r := range runs {
		out[i] = string(r.Trigger)
	}
	return out
}

func testHistory(t *testing.T, open Opener) {
	unchanged := mirror.RefResult{Ref: "refs/heads/main", Action: mirror.ActSkip, Outcome: mirror.Unchanged, Source: "a", Target: "a"}
	updated := mirror.RefResult{Ref: "refs/heads/main", Action: mirror.ActUpdate, Outcome: mirror.Updated, Source: "b", Target: "a"}
	t0 := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)

	t.Run("NoOpReconcilesKeepOneRow", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		b.installation(t, 1)
		m := b.mirror(t, newMirror(1, 1, "a"))
		other := b.mirror(t, newMirror(1, 2, "a"))
		b.finish(t, m.ID, "push", "ok", t0, updated)
		for i := range 5 {
			b.finish(t, m.ID, "reconcile", "ok", t0.Add(time.Duration(i+1)*time.Minute), unchanged)
			b.finish(t, other.ID, "reconcile", "ok", t0.Add(time.Duration(i+1)*time.Minute), unchanged)
		}
		last := b.finish(t, m.ID, "reconcile", "ok", t0.Add(time.Hour), unchanged)
		runs, err := b.s.ListRuns(b.ctx, m.ID, 0)
		noErr(t, "ListRuns", err)
		if len(runs) != 2 || runs[0].ID != last.ID || runs[1].Trigger != "push" {
			t.Fatalf("runs = %v; want the newest no-op reconcile and the push", b.triggers(t, m.ID))
		}
		wantTime(t, "kept no-op's StartedAt", runs[0].StartedAt, t0.Add(time.Hour))
		if got := b.triggers(t, other.ID); len(got) != 1 {
			t.Errorf("other mirror's runs = %v; want one", got)
		}
		wantTime(t, "LastSyncAt", b.get(t, m.ID).LastSyncAt, last.FinishedAt)
	})

	t.Run("WhatIsNotANoOpStays", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		b.installation(t, 1)
		m := b.mirror(t, newMirror(1, 1, "a"))
		steps := []struct {
			trigger store.Trigger
			outcome store.Outcome
			refs    []mirror.RefResult
		}{
			{"reconcile", "ok", []mirror.RefResult{unchanged}},
			{"reconcile", "ok", []mirror.RefResult{updated}},   // wrote something
			{"reconcile", "ok", []mirror.RefResult{unchanged}}, // a no-op after a change stays
			{"reconcile", "failed", nil},                       // a failure
			{"reconcile", "ok", []mirror.RefResult{unchanged}}, // after a failure stays
			{"push", "ok", []mirror.RefResult{unchanged}},      // a push with nothing to do
			{"reconcile", "ok", []mirror.RefResult{unchanged}}, // after a push stays
			{"reconcile", "diverged", []mirror.RefResult{unchanged}},
		}
		for i, s := range steps {
			b.finish(t, m.ID, s.trigger, s.outcome, t0.Add(time.Duration(i)*time.Minute), s.refs...)
		}
		if got := b.triggers(t, m.ID); len(got) != len(steps) {
			t.Errorf("runs = %v; want all %d", got, len(steps))
		}
	})

	t.Run("KeepsTheNewest", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		b.installation(t, 1)
		m := b.mirror(t, newMirror(1, 1, "a"))
		running := &store.SyncRun{MirrorID: m.ID, Trigger: "manual", StartedAt: t0.Add(-time.Hour)}
		noErr(t, "StartRun", b.s.StartRun(b.ctx, running))
		n := store.DefaultKeepRuns + 5
		for i := range n {
			b.finish(t, m.ID, "push", "ok", t0.Add(time.Duration(i)*time.Minute), updated)
		}
		runs, err := b.s.ListRuns(b.ctx, m.ID, 0)
		noErr(t, "ListRuns", err)
		if len(runs) != store.DefaultKeepRuns+1 {
			t.Fatalf("%d runs kept; want the newest %d and the running one", len(runs), store.DefaultKeepRuns)
		}
		wantTime(t, "newest", runs[0].StartedAt, t0.Add(time.Duration(n-1)*time.Minute))
		wantTime(t, "oldest finished kept", runs[len(runs)-2].StartedAt, t0.Add(time.Duration(n-store.DefaultKeepRuns)*time.Minute))
		if last := runs[len(runs)-1]; last.ID != running.ID {
			t.Errorf("the running run was dropped: oldest is %+v", last)
		}
	})
}
