package webhook_test

import (
	"context"
	"sync"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/gitee-mirror/gitee-mirror/internal/webhook"
)

// lockingInbox is an inbox shared by replicas: it records whether the
// forwarding lock was held at each call.
type lockingInbox struct {
	store.Inbox
	mu      sync.Mutex
	held    bool
	locks   int
	outside []string // calls made without the lock
}

func (l *lockingInbox) LockForward(context.Context) (func(), error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.held = true
	l.locks++
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.held = false
	}, nil
}

func (l *lockingInbox) check(call string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.held {
		l.outside = append(l.outside, call)
	}
}

func (l *lockingInbox) Pending(ctx context.Context, limit, maxAttempts int) ([]*store.Delivery, error) {
	l.check("Pending")
	return l.Inbox.Pending(ctx, limit, maxAttempts)
}

func (l *lockingInbox) Handled(ctx context.Context, seqs ...int64) error {
	l.check("Handled")
	return l.Inbox.Handled(ctx, seqs...)
}

// TestForwarderTakesTurnsOnASharedInbox: with an inbox that replicas share,
// the forwarder reads pending deliveries and marks them handled under the
// inbox's lock, so that another replica never reads a batch this one is
// working on.
func TestForwarderTakesTurnsOnASharedInbox(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := b.mirror(t, testRepoID, "repo1", store.AToB, "")
	for _, id := range []string{"d1", "d2", "d3"} {
		b.put(t, id, "push", pushFor(t, testRepoID))
	}
	in := &lockingInbox{Inbox: b.inbox}
	fwd := webhook.NewForwarder(webhook.ForwarderOptions{Inbox: in, Handlers: webhook.ForwardHandlers(b.store, b.queue)})
	if err := fwd.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	if in.locks == 0 || len(in.outside) > 0 {
		t.Errorf("forwarding lock taken %d times; calls made without it: %v", in.locks, in.outside)
	}
	if got := b.queue.Syncs(); len(got) != 1 || got[0].MirrorID != m.ID {
		t.Errorf("syncs = %+v, want one of mirror %d", got, m.ID)
	}
	if ds := b.pending(t); len(ds) != 0 {
		t.Errorf("%d deliveries still pending", len(ds))
	}
}
