package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/release"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

func testRuns(t *testing.T, open Opener) {
	t.Run("StartAndFinish", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		b.installation(t, 1)
		m := b.mirror(t, newMirror(1, 1, "a"))
		started := time.Date(2025, 3, 1, 12, 0, 0, 123456000, time.UTC)
		run := &store.SyncRun{MirrorID: m.ID, Trigger: "gitee-push", StartedAt: started}
		noErr(t, "StartRun", b.s.StartRun(b.ctx, run))
		if run.ID <= 0 || run.Outcome != "running" {
			t.Errorf("after StartRun: ID %d, Outcome %q", run.ID, run.Outcome)
		}
		runs, err := b.s.ListRuns(b.ctx, m.ID, 10)
		noErr(t, "ListRuns", err)
		if len(runs) != 1 || runs[0].ID != run.ID || runs[0].Outcome != "running" ||
			runs[0].Trigger != "gitee-push" || !runs[0].FinishedAt.IsZero() || runs[0].MirrorID != m.ID {
			t.Fatalf("ListRuns while running = %+v", runs)
		}
		wantTime(t, "StartedAt", runs[0].StartedAt, started)

		refs := []mirror.RefResult{
			{Ref: "refs/heads/main", Action: mirror.ActUpdate, Outcome: mirror.Updated, Source: "aaa", Target: "bbb"},
			{Ref: "refs/tags/v1", Action: mirror.ActSkip, Outcome: mirror.Diverged, Source: "ccc", Target: "ddd",
				Backup: "refs/mirror-backup/x", Class: failure.Diverged, Message: "target moved"},
		}
		if runs[0].Releases != nil {
			t.Errorf("a run without releases lists %+v", runs[0].Releases)
		}
		releases := &release.Result{Releases: []release.ReleaseResult{
			{Tag: "v1", Name: "One", Outcome: release.Created, Assets: []release.AssetResult{
				{Name: "a.tgz", Size: 10, Outcome: release.Created, Attempts: 1},
				{Name: "big.iso", Size: 200 << 20, Outcome: release.Skipped, Message: "over the limit"}}},
			{Tag: "v0", Outcome: release.Failed, Class: failure.Network, Message: "dropped"},
		}, Drafts: 1, Kept: 2, Uploaded: 1, Bytes: 10}
		finished := started.Add(90 * time.Second)
		run.Outcome, run.FinishedAt, run.Refs, run.Bytes, run.Releases = "ok", finished, refs, 4096, releases
		failures, err := b.s.FinishRun(b.ctx, run)
		noErr(t, "FinishRun", err)
		if failures != 0 {
			t.Errorf("FinishRun(ok) = %d failures", failures)
		}
		runs, err = b.s.ListRuns(b.ctx, m.ID, 10)
		noErr(t, "ListRuns", err)
		got := runs[0]
		if got.Outcome != "ok" || got.Bytes != 4096 || got.ErrorClass != "" || !reflect.DeepEqual(got.Refs, refs) {
			t.Errorf("finished run = %+v\nrefs %+v", got, got.Refs)
		}
		if !reflect.DeepEqual(got.Releases, releases) {
			t.Errorf("releases of the run = %+v, want %+v", got.Releases, releases)
		}
		wantTime(t, "FinishedAt", got.FinishedAt, finished)
		mm := b.get(t, m.ID)
		if mm.Status != store.StatusInSync || mm.LastError != "" || mm.ConsecutiveFailures != 0 {
			t.Errorf("mirror after ok: %+v", mm)
		}
		wantTime(t, "LastSyncAt", mm.LastSyncAt, finished)
	})

	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		b.installation(t, 1)
		m := b.mirror(t, newMirror(1, 1, "a"))
		before := time.Now()
		run := &store.SyncRun{MirrorID: m.ID, Trigger: "manual"}
		noErr(t, "StartRun", b.s.StartRun(b.ctx, run))
		wantRecent(t, "StartedAt", run.StartedAt, before)
		run.Outcome = "diverged"
		_, err := b.s.FinishRun(b.ctx, run)
		noErr(t, "FinishRun", err)
		wantRecent(t, "FinishedAt", run.FinishedAt, before)
		wantTime(t, "LastSyncAt", b.get(t, m.ID).LastSyncAt, run.FinishedAt)
	})

	t.Run("FailureCounting", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		b.installation(t, 1)
		m := b.mirror(t, newMirror(1, 1, "a"))
		steps := []struct {
			outcome  store.Outcome
			failures int
			status   store.Status
			lastErr  string
		}{
			{"failed", 1, store.StatusFailing, "connection reset"},
			{"failed", 2, store.StatusFailing, "connection reset"},
			{"interrupted", 2, store.StatusFailing, "interrupted"}, // a shutdown: not counted
			{"failed", 3, store.StatusFailing, "connection reset"},
			{"diverged", 0, store.StatusDiverged, ""},
			{"interrupted", 0, store.StatusFailing, "interrupted"},
			{"failed", 1, store.StatusFailing, "connection reset"},
			{"ok", 0, store.StatusInSync, ""},
			{"failed", 1, store.StatusFailing, "connection reset"},
		}
		for i, st := range steps {
			if got := b.run(t, m.ID, st.outcome); got != st.failures {
				t.Errorf("step %d: FinishRun(%s) = %d failures, want %d", i, st.outcome, got, st.failures)
			}
			mm := b.get(t, m.ID)
			if mm.ConsecutiveFailures != st.failures || mm.Status != st.status || mm.LastError != st.lastErr {
				t.Errorf("step %d (%s): failures %d, status %q, last error %q; want %d, %q, %q",
					i, st.outcome, mm.ConsecutiveFailures, mm.Status, mm.LastError, st.failures, st.status, st.lastErr)
			}
			if st.outcome == "failed" && mm.LastErrorClass != "network" {
				t.Errorf("step %d: LastErrorClass = %q", i, mm.LastErrorClass)
			}
		}
	})

	t.Run("FinishRejects", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		b.installation(t, 1)
		m := b.mirror(t, newMirror(1, 1, "a"))
		run := &store.SyncRun{MirrorID: m.ID, Trigger: "push"}
		noErr(t, "StartRun", b.s.StartRun(b.ctx, run))
		for _, bad := range []store.Outcome{"", "running", "OK", "success"} {
			run.Outcome = bad
			if _, err := b.s.FinishRun(b.ctx, run); err == nil {
				t.Errorf("FinishRun with outcome %q: no error", bad)
			}
		}
		if mm := b.get(t, m.ID); mm.Status != store.StatusNew || !mm.LastSyncAt.IsZero() {
			t.Errorf("rejected FinishRun changed the mirror: %+v", mm)
		}

		run.Outcome = "failed"
		n, err := b.s.FinishRun(b.ctx, run)
		noErr(t, "FinishRun", err)
		if _, err := b.s.FinishRun(b.ctx, run); err == nil {
			t.Error("FinishRun twice: no error")
		}
		if got := b.get(t, m.ID).ConsecutiveFailures; got != n || n != 1 {
			t.Errorf("failures after a double FinishRun = %d (first returned %d), want 1", got, n)
		}

		_, err = b.s.FinishRun(b.ctx, &store.SyncRun{ID: run.ID + 100, Outcome: "ok"})
		wantErr(t, "FinishRun of unknown run", err, store.ErrNotFound)
		err = b.s.StartRun(b.ctx, &store.SyncRun{MirrorID: m.ID + 100, Trigger: "push"})
		wantErr(t, "StartRun of unknown mirror", err, store.ErrNotFound)
	})

	t.Run("ListOrderAndLimit", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		b.installation(t, 1)
		m := b.mirror(t, newMirror(1, 1, "a"))
		other := b.mirror(t, newMirror(1, 2, "a"))
		base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		// Start times out of insertion order; the last two tie.
		offsets := []int{3, 1, 4, 2, 5, 5}
		ids := map[int][]int64{}
		for _, off := range offsets {
			r := &store.SyncRun{MirrorID: m.ID, Trigger: "push", StartedAt: base.Add(time.Duration(off) * time.Minute)}
			noErr(t, "StartRun", b.s.StartRun(b.ctx, r))
			ids[off] = append(ids[off], r.ID)
		}
		noErr(t, "StartRun", b.s.StartRun(b.ctx, &store.SyncRun{MirrorID: other.ID, Trigger: "push", StartedAt: base.Add(time.Hour)}))
		// Newest first; of two started together, the later recorded first.
		want := []int64{ids[5][1], ids[5][0], ids[4][0], ids[3][0], ids[2][0], ids[1][0]}

		for _, limit := range []int{0, -1, 100, 6, 3, 1} {
			runs, err := b.s.ListRuns(b.ctx, m.ID, limit)
			noErr(t, "ListRuns", err)
			w := want
			if limit > 0 && limit < len(w) {
				w = w[:limit]
			}
			var got []int64
			for _, r := range runs {
				got = append(got, r.ID)
				if r.MirrorID != m.ID {
					t.Errorf("ListRuns(limit %d) includes run %d of mirror %d", limit, r.ID, r.MirrorID)
				}
			}
			if !reflect.DeepEqual(got, w) {
				t.Errorf("ListRuns(limit %d) = %v, want %v", limit, got, w)
			}
		}
		if runs, err := b.s.ListRuns(b.ctx, other.ID+100, 0); err != nil || len(runs) != 0 {
			t.Errorf("ListRuns of unknown mirror = %v, %v; want none", runs, err)
		}
	})
}
