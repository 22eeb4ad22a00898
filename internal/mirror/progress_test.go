package mirror_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// TestProgressReported: with Options.Progress set, a first mirror reports
// the pack's object count, the bytes received from the source and sent to
// the target (the same pack, relayed), the phases, and the source's own
// progress messages; with nothing to move, nothing is reported.
func TestProgressReported(t *testing.T) {
	b := setup(t)
	seed(t, b)
	var (
		mu    sync.Mutex
		all   []mirror.Progress
		phase = map[mirror.Phase]bool{}
	)
	opts := b.options()
	opts.Progress = func(p mirror.Progress) {
		mu.Lock()
		defer mu.Unlock()
		all = append(all, p)
		phase[p.Phase] = true
	}
	res := b.sync(t, opts)
	if !res.OK() {
		t.Fatalf("sync not OK: %+v", res)
	}
	mu.Lock()
	if len(all) == 0 {
		mu.Unlock()
		t.Fatal("no progress reported")
	}
	last := all[len(all)-1]
	remote := ""
	for _, p := range all {
		if strings.Contains(p.Remote, "objects") {
			remote = p.Remote
		}
		if p.Received < 0 || p.Sent < 0 || p.Elapsed < 0 {
			t.Errorf("negative figures: %+v", p)
		}
	}
	mu.Unlock()
	if last.Objects == 0 || last.Received == 0 || last.Sent == 0 {
		t.Errorf("last progress %+v: want objects and bytes both ways", last)
	}
	if last.Received != res.Bytes || last.Sent < res.Bytes {
		t.Errorf("received %d, sent %d; the result relayed %d bytes", last.Received, last.Sent, res.Bytes)
	}
	if !phase[mirror.PhaseReceiving] || !phase[mirror.PhaseSending] {
		t.Errorf("phases seen %v, want receiving and sending", phase)
	}
	if !strings.Contains(remote, "objects") {
		t.Errorf("source progress message %q, want Git's object counting", remote)
	}

	// In sync already: no transfer, no progress.
	mu.Lock()
	all = nil
	mu.Unlock()
	if res := b.sync(t, opts); !res.NoOp {
		t.Fatalf("second sync not a no-op: %+v", res)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(all) != 0 {
		t.Errorf("a no-op sync reported progress: %+v", all)
	}
}
