package jobs

import (
	"context"
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// RequestSyncs does what a RequestSync (or RequestSyncHinted) of each
// mirror would: it counts the request, resumes a mirror paused after
// failures when asked, inserts one job per mirror with its hints, skips a
// mirror that no longer exists, and a request joining a running sync gets
// a follow-up.
func TestRequestSyncs(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	w, g := b.mirror(t, "widget"), b.mirror(t, "gadget")
	ctx := t.Context()
	if err := b.st.PauseAfterFailures(ctx, w.ID, "timeout"); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	held := noopUntil(release)
	var mu sync.Mutex
	hints := map[int64][]map[string]string{}
	b.runner.onSync(func(ctx context.Context, m *store.Mirror) (*mirror.Result, error) {
		mu.Lock()
		hints[m.ID] = append(hints[m.ID], hintsFrom(ctx))
		mu.Unlock()
		return held(ctx, m)
	})

	main := map[string]string{"refs/heads/main": "1111111111111111111111111111111111111111"}
	dev := map[string]string{"refs/heads/dev": "2222222222222222222222222222222222222222"}
	gone := g.ID + 100
	ids, err := b.q.RequestSyncs(ctx, []store.SyncRequest{
		{MirrorID: w.ID, Trigger: store.TriggerPush, Resume: true, Hints: main},
		{MirrorID: gone, Trigger: store.TriggerPush, Resume: true},
		{MirrorID: g.ID, Trigger: store.TriggerManual},
		{MirrorID: w.ID, Trigger: store.TriggerPush, Hints: dev},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{w.ID, g.ID}; !slices.Equal(ids, want) {
		t.Errorf("RequestSyncs requested %v, want %v (the unknown %d left out)", ids, want, gone)
	}
	if got := b.get(t, w.ID); got.Paused || got.RequestSeq != 1 {
		t.Errorf("widget after the requests: paused %v, RequestSeq %d; want resumed, 1 (two requests of one batch count once)", got.Paused, got.RequestSeq)
	}
	if got := b.get(t, g.ID).RequestSeq; got != 1 {
		t.Errorf("gadget's RequestSeq = %d, want 1", got)
	}
	started := []int64{b.runner.waitStarted(t), b.runner.waitStarted(t)}
	slices.Sort(started)
	if want := []int64{w.ID, g.ID}; !slices.Equal(started, slices.Sorted(slices.Values(want))) {
		t.Fatalf("syncs started for %v, want %v", started, want)
	}
	b.depth(t, 2)

	// A request while the widget syncs joins its job: one follow-up.
	if _, err := b.q.RequestSyncs(ctx, []store.SyncRequest{{MirrorID: w.ID, Trigger: store.TriggerPush, Resume: true, Hints: main}}); err != nil {
		t.Fatal(err)
	}
	b.depth(t, 2)
	release <- struct{}{}
	release <- struct{}{}
	if id := b.runner.waitStarted(t); id != w.ID {
		t.Fatalf("follow-up sync of mirror %d, want the widget's (%d)", id, w.ID)
	}
	release <- struct{}{}
	b.waitFinal(t)
	b.waitFinal(t)

	mu.Lock()
	defer mu.Unlock()
	want := maps.Clone(main)
	maps.Copy(want, dev)
	if got := hints[w.ID]; len(got) != 2 || !maps.Equal(got[0], want) || got[1] != nil {
		t.Errorf("widget's syncs saw hints %v, want %v then none (a follow-up)", got, want)
	}
	if got := hints[g.ID]; len(got) != 1 || got[0] != nil {
		t.Errorf("gadget's syncs saw hints %v, want one sync without", got)
	}
	rs := b.runs(t, g.ID)
	if len(rs) != 1 || rs[0].Trigger != store.TriggerManual {
		t.Errorf("gadget's runs = %+v, want one started by its request's trigger", rs)
	}
	if ids, err := b.q.RequestSyncs(ctx, nil); err != nil || ids != nil {
		t.Errorf("RequestSyncs of none = %v, %v", ids, err)
	}
}

func TestMergeRequests(t *testing.T) {
	t.Parallel()
	h := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	push, manual := store.TriggerPush, store.TriggerManual
	for _, c := range []struct {
		name string
		in   []store.SyncRequest
		want []store.SyncRequest
	}{
		{"none", nil, []store.SyncRequest{}},
		{"distinct kept in order",
			[]store.SyncRequest{{MirrorID: 2, Trigger: push}, {MirrorID: 1, Trigger: manual}},
			[]store.SyncRequest{{MirrorID: 2, Trigger: push}, {MirrorID: 1, Trigger: manual}}},
		{"last trigger, resume if either",
			[]store.SyncRequest{{MirrorID: 1, Trigger: push, Resume: true}, {MirrorID: 1, Trigger: manual}},
			[]store.SyncRequest{{MirrorID: 1, Trigger: manual, Resume: true}}},
		{"hints merged, the later wins a ref",
			[]store.SyncRequest{{MirrorID: 1, Hints: h("main", "a", "dev", "b")}, {MirrorID: 3}, {MirrorID: 1, Hints: h("main", "c")}},
			[]store.SyncRequest{{MirrorID: 1, Hints: h("main", "c", "dev", "b")}, {MirrorID: 3}}},
		{"hints of the later alone",
			[]store.SyncRequest{{MirrorID: 1}, {MirrorID: 1, Hints: h("main", "c")}},
			[]store.SyncRequest{{MirrorID: 1, Hints: h("main", "c")}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var first map[string]string
			if len(c.in) > 0 {
				first = maps.Clone(c.in[0].Hints)
			}
			got := mergeRequests(c.in)
			eq := func(a, b store.SyncRequest) bool {
				return a.MirrorID == b.MirrorID && a.Trigger == b.Trigger && a.Resume == b.Resume && maps.Equal(a.Hints, b.Hints)
			}
			if !slices.EqualFunc(got, c.want, eq) {
				t.Errorf("mergeRequests = %+v, want %+v", got, c.want)
			}
			if len(c.in) > 0 && !maps.Equal(c.in[0].Hints, first) {
				t.Errorf("mergeRequests changed its input's hints: %v, was %v", c.in[0].Hints, first)
			}
		})
	}
}
