package storetest

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// InboxOpener opens an inbox for test t: a fresh one on the first call
// within t, the same one again on later calls (the suite closes the
// previous one first). It closes what it opens in t.Cleanup.
type InboxOpener func(t *testing.T) store.Inbox

// RunInbox runs the store.Inbox contract against the backend open opens.
func RunInbox(t *testing.T, open InboxOpener) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(*testing.T, context.Context, store.Inbox, InboxOpener)
	}{
		{"AcceptDedupes", inboxAcceptDedupes},
		{"PendingInOrder", inboxPendingInOrder},
		{"HandledKeepsID", inboxHandledKeepsID},
		{"FailedThenGivenUp", inboxFailedThenGivenUp},
		{"Prune", inboxPrune},
		{"Reopen", inboxReopen},
		{"ConcurrentAccept", inboxConcurrentAccept},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, t.Context(), open(t), open)
		})
	}
}

const inboxMax = 3 // maxAttempts used throughout

func accept(t *testing.T, ctx context.Context, in store.Inbox, source, id string, want bool) *store.Delivery {
	t.Helper()
	d := &store.Delivery{Source: source, ID: id, Event: "push", Payload: []byte(`{"id":"` + id + `"}`)}
	first, err := in.Accept(ctx, d)
	noErr(t, "Accept", err)
	if first != want {
		t.Fatalf("Accept(%s, %s) first = %v, want %v", source, id, first, want)
	}
	return d
}

func pending(t *testing.T, ctx context.Context, in store.Inbox, limit int) []*store.Delivery {
	t.Helper()
	ds, err := in.Pending(ctx, limit, inboxMax)
	noErr(t, "Pending", err)
	return ds
}

func ids(ds []*store.Delivery) string {
	var b bytes.Buffer
	for _, d := range ds {
		fmt.Fprintf(&b, "%s/%s ", d.Source, d.ID)
	}
	return b.String()
}

func inboxAcceptDedupes(t *testing.T, ctx context.Context, in store.Inbox, _ InboxOpener) {
	before := time.Now()
	d := accept(t, ctx, in, "github", "d1", true)
	if d.Seq == 0 || d.ReceivedAt.Before(before.Add(-time.Second)) || d.ReceivedAt.After(time.Now().Add(time.Second)) {
		t.Errorf("Accept set Seq %d, ReceivedAt %v", d.Seq, d.ReceivedAt)
	}
	accept(t, ctx, in, "github", "d1", false)
	accept(t, ctx, in, "gitee", "d1", true) // ids are per source
	if got := ids(pending(t, ctx, in, 10)); got != "github/d1 gitee/d1 " {
		t.Errorf("Pending = %s, want the duplicate stored once", got)
	}
}

func inboxPendingInOrder(t *testing.T, ctx context.Context, in store.Inbox, _ InboxOpener) {
	for _, id := range []string{"c", "a", "b"} {
		accept(t, ctx, in, "github", id, true)
	}
	if got := ids(pending(t, ctx, in, 2)); got != "github/c github/a " {
		t.Errorf("Pending(2) = %s, want the two oldest", got)
	}
	ds := pending(t, ctx, in, 10)
	if len(ds) != 3 || string(ds[2].Payload) != `{"id":"b"}` || ds[2].Event != "push" {
		t.Fatalf("Pending = %+v", ds)
	}
	if p, g, err := in.Counts(ctx, inboxMax); err != nil || p != 3 || g != 0 {
		t.Errorf("Counts = %d, %d, %v; want 3 pending", p, g, err)
	}
}

func inboxHandledKeepsID(t *testing.T, ctx context.Context, in store.Inbox, _ InboxOpener) {
	a := accept(t, ctx, in, "github", "a", true)
	b := accept(t, ctx, in, "github", "b", true)
	c := accept(t, ctx, in, "github", "c", true)
	noErr(t, "Handled", in.Handled(ctx, a.Seq, c.Seq))
	noErr(t, "Handled (none)", in.Handled(ctx))
	noErr(t, "Handled (again)", in.Handled(ctx, a.Seq))
	if got := ids(pending(t, ctx, in, 10)); got != "github/b " {
		t.Errorf("Pending = %s, want only b", got)
	}
	accept(t, ctx, in, "github", "a", false) // a redelivery of a handled one
	noErr(t, "Handled", in.Handled(ctx, b.Seq))
	if p, g, err := in.Counts(ctx, inboxMax); err != nil || p != 0 || g != 0 {
		t.Errorf("Counts = %d, %d, %v; want none", p, g, err)
	}
}

func inboxFailedThenGivenUp(t *testing.T, ctx context.Context, in store.Inbox, _ InboxOpener) {
	a := accept(t, ctx, in, "github", "a", true)
	accept(t, ctx, in, "github", "b", true)
	for i := 1; i <= inboxMax; i++ {
		n, err := in.Failed(ctx, a.Seq, fmt.Sprintf("failure %d", i))
		noErr(t, "Failed", err)
		if n != i {
			t.Errorf("Failed returned %d, want %d", n, i)
		}
		if i < inboxMax {
			ds := pending(t, ctx, in, 10)
			if len(ds) != 2 || ds[0].Attempts != i || ds[0].LastError != fmt.Sprintf("failure %d", i) {
				t.Errorf("after %d failures: Pending = %+v", i, ds)
			}
		}
	}
	if got := ids(pending(t, ctx, in, 10)); got != "github/b " {
		t.Errorf("Pending = %s, want a given up", got)
	}
	if p, g, err := in.Counts(ctx, inboxMax); err != nil || p != 1 || g != 1 {
		t.Errorf("Counts = %d, %d, %v; want 1 pending and 1 given up", p, g, err)
	}
	// Given up is not lost: a larger limit brings it back.
	if ds, err := in.Pending(ctx, 10, inboxMax+1); err != nil || len(ds) != 2 {
		t.Errorf("Pending with more attempts = %v, %v", ids(ds), err)
	}
	if _, err := in.Failed(ctx, 9999, "x"); err == nil {
		t.Error("Failed of an unknown delivery: no error")
	}
}

func inboxPrune(t *testing.T, ctx context.Context, in store.Inbox, _ InboxOpener) {
	a := accept(t, ctx, in, "github", "old-handled", true)
	accept(t, ctx, in, "github", "old-pending", true)
	noErr(t, "Handled", in.Handled(ctx, a.Seq))
	noErr(t, "Prune", in.Prune(ctx, time.Now().Add(-time.Hour)))
	accept(t, ctx, in, "github", "old-handled", false) // too recent to prune
	noErr(t, "Prune", in.Prune(ctx, time.Now().Add(time.Hour)))
	accept(t, ctx, in, "github", "old-handled", true) // pruned: taken again
	accept(t, ctx, in, "github", "old-pending", false)
	if got := ids(pending(t, ctx, in, 10)); got != "github/old-pending github/old-handled " {
		t.Errorf("Pending = %s; a pending delivery must never be pruned", got)
	}
}

func inboxReopen(t *testing.T, ctx context.Context, in store.Inbox, open InboxOpener) {
	a := accept(t, ctx, in, "github", "a", true)
	accept(t, ctx, in, "github", "b", true)
	noErr(t, "Handled", in.Handled(ctx, a.Seq))
	noErr(t, "Ping", in.Ping(ctx))
	noErr(t, "Close", in.Close())
	if err := in.Ping(ctx); err == nil {
		t.Error("Ping after Close: no error")
	}
	r := open(t)
	accept(t, ctx, r, "github", "a", false)
	if ds := pending(t, ctx, r, 10); len(ds) != 1 || ds[0].ID != "b" || string(ds[0].Payload) != `{"id":"b"}` {
		t.Errorf("after reopen: Pending = %s", ids(ds))
	}
	c := accept(t, ctx, r, "github", "c", true)
	if c.Seq <= a.Seq {
		t.Errorf("seq after reopen %d, not after %d", c.Seq, a.Seq)
	}
}

func inboxConcurrentAccept(t *testing.T, ctx context.Context, in store.Inbox, _ InboxOpener) {
	const n = 16
	firsts := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			firsts[i], errs[i] = in.Accept(ctx, &store.Delivery{Source: "github", ID: "same", Event: "push"})
		})
	}
	wg.Wait()
	count := 0
	for i := range n {
		noErr(t, "Accept", errs[i])
		if firsts[i] {
			count++
		}
	}
	if count != 1 {
		t.Errorf("%d of %d concurrent Accept calls were first, want 1", count, n)
	}
}
