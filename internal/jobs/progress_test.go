package jobs

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/logtest"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// A sync the forge holds up mid-transfer shows its progress: the ticker
// writes it to the store (for the pages of every replica) and, once the
// sync has run ten seconds, logs it; when the sync ends the row is gone.
// A sync that ends before a tick leaves no trace in the store or the log.
func TestDefaultRunner_ProgressOfASlowSync(t *testing.T) {
	t.Parallel()
	b := setupRunner(t)
	ctx := context.Background()
	files := map[string]string{}
	for _, n := range []string{"a", "b", "c", "d"} {
		files[n+".txt"] = strings.Repeat(n+" line of text\n", 4000)
	}
	b.push(t, "main", files)
	logs := &logtest.Buffer{}
	b.runner.log = slog.New(slog.NewTextHandler(logs, nil))
	ticks := make(chan time.Time)
	b.runner.tick = func(d time.Duration) (<-chan time.Time, func()) {
		if d != DefaultProgressEvery {
			t.Errorf("progress ticks every %v, want %v", d, DefaultProgressEvery)
		}
		return ticks, func() {}
	}
	var clock atomic.Int64
	clock.Store(time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC).UnixNano())
	b.runner.now = func() time.Time { return time.Unix(0, clock.Load()) }

	// The forge holds the push (its pack fully sent) until released.
	held, release := make(chan struct{}, 1), make(chan struct{})
	b.f.OnRequest(func(r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/git-receive-pack") {
			select {
			case held <- struct{}{}:
			default:
			}
			<-release
		}
	})
	m := b.mirror(t, "widget", store.AToB)
	done := make(chan error, 1)
	go func() {
		_, err := b.runner.Sync(ctx, m)
		done <- err
	}()
	<-held
	// The client streams the pack as the forge takes it: tick until the
	// stored progress shows the pack on its way (ticks are not logged:
	// the sync's clock has not moved 10 s).
	var p *store.SyncProgress
	for deadline := time.Now().Add(30 * time.Second); ; {
		ticks <- time.Now()
		ticks <- time.Now() // the one before is done once this one is taken
		var err error
		if p, err = b.st.Progress(ctx, m.ID); err == nil && p.Phase == "sending" && p.Sent > 0 && p.Received > 0 && p.Objects > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stored progress = %+v, %v; want the pack being sent", p, err)
		}
		time.Sleep(10 * time.Millisecond) // let the transfer move between ticks
	}
	clock.Add(int64(12 * time.Second))
	ticks <- time.Now() // logged
	ticks <- time.Now() // the one before is done once this one is taken
	if text := ProgressText(p); !strings.Contains(text, "sending") || !strings.Contains(text, "objects") || !strings.Contains(text, "/s") {
		t.Errorf("ProgressText = %q", text)
	}
	if n := strings.Count(logs.String(), "sync in progress"); n != 1 {
		t.Errorf("%d progress lines logged, want 1:\n%s", n, logs)
	}
	for _, want := range []string{"phase=sending", "objects=", "received_bytes=", "sent_bytes=", "bytes_per_second=", "elapsed="} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("progress log lacks %q:\n%s", want, logs)
		}
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if _, err := b.st.Progress(ctx, m.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("progress after the sync: %v, want none", err)
	}

	// A fast sync, done before any tick: no progress anywhere.
	b.f.OnRequest(nil)
	b.push(t, "main", map[string]string{"e.txt": "e\n"})
	before := logs.String()
	if _, err := b.runner.Sync(ctx, m); err != nil {
		t.Fatalf("second Sync: %v", err)
	}
	if after := logs.String(); strings.Contains(after[len(before):], "sync in progress") {
		t.Errorf("a fast sync logged progress:\n%s", after[len(before):])
	}
	if _, err := b.st.Progress(ctx, m.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("progress after a fast sync: %v, want none", err)
	}
}
