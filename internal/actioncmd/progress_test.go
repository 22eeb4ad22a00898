package actioncmd

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// fakeTime is a clock and a ticker the test moves by hand.
type fakeTime struct {
	mu    sync.Mutex
	now   time.Time
	ticks chan time.Time
	every []time.Duration // the intervals asked for
}

func newFakeTime() *fakeTime { return &fakeTime{now: fixedNow, ticks: make(chan time.Time)} }

func (f *fakeTime) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeTime) Tick(d time.Duration) (<-chan time.Time, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.every = append(f.every, d)
	return f.ticks, func() {}
}

// at sets the clock to start+d and ticks twice: the board has drawn the
// first tick once it takes the second, so the clock may move on after.
func (f *fakeTime) at(d time.Duration) {
	f.mu.Lock()
	f.now = fixedNow.Add(d)
	f.mu.Unlock()
	f.ticks <- f.now
	f.ticks <- f.now
}

// midTransfer is what the core reports halfway through a first mirror.
var midTransfer = mirror.Progress{Phase: mirror.PhaseSending, Objects: 1500, Received: 3 << 20, Sent: 2 << 20,
	Remote: "Compressing objects:  45% (9/20)"}

func TestProgressDisplay(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		actions, terminal bool
		steps             []time.Duration // clock readings at which the board draws
		want              []string        // in stderr, in order
		not               []string
		every             time.Duration
	}{
		"fast, log": {
			steps: []time.Duration{5 * time.Second},
			not:   []string{"progress"},
			every: everyLog,
		},
		"slow, log": {
			actions: true,
			steps:   []time.Duration{5 * time.Second, 12 * time.Second},
			want:    []string{"progress: sending, 1500 objects, 3.0 MiB received, 2.0 MiB sent, 256.0 KiB/s, 12s · source: Compressing objects:  45% (9/20)\n"},
			not:     []string{"\r", "5s"},
			every:   everyLog,
		},
		"fast, terminal": {
			terminal: true,
			steps:    []time.Duration{time.Second},
			not:      []string{"\r", "sending"},
			every:    everyTerminal,
		},
		"slow, terminal": {
			terminal: true,
			steps:    []time.Duration{time.Second, 3 * time.Second},
			want:     []string{"\rsending, 1500 objects, 3.0 MiB received, 2.0 MiB sent, 1.0 MiB/s, 3s · source: Compressing", "\x1b[K", "\r\x1b[K"},
			not:      []string{"progress:", "\n"},
			every:    everyTerminal,
		},
		"terminal inside Actions is a log": {
			actions: true, terminal: true,
			steps: []time.Duration{12 * time.Second},
			want:  []string{"progress: sending"},
			not:   []string{"\r"},
			every: everyLog,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tt.actions)
			b.env["GITHUB_REPOSITORY"] = "octo/repo"
			ft := newFakeTime()
			a := b.app([]string{"--destination=gitee/o/r"}, nil, nil)
			a.Now, a.Tick, a.Terminal = ft.Now, ft.Tick, tt.terminal
			a.Sync = func(_ context.Context, opts mirror.Options) (*mirror.Result, error) {
				if opts.Progress == nil {
					t.Fatal("no progress callback given to the sync")
				}
				opts.Progress(midTransfer)
				for _, d := range tt.steps {
					ft.at(d)
				}
				return okResult(), nil
			}
			if got := exitCode(a.run(t.Context())); got != exitOK {
				t.Fatalf("exit %d; stderr:\n%s", got, &b.stderr)
			}
			stderr := b.stderr.String()
			rest := stderr
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("stderr lacks %q (in order):\n%q", w, stderr)
				}
				rest = rest[i+len(w):]
			}
			for _, n := range tt.not {
				if strings.Contains(stderr, n) {
					t.Errorf("stderr has %q:\n%q", n, stderr)
				}
			}
			if len(ft.every) != 1 || ft.every[0] != tt.every {
				t.Errorf("ticker intervals %v, want [%v]", ft.every, tt.every)
			}
		})
	}
}

// TestProgressBeforeTransfer: a sync still comparing refs says so.
func TestProgressBeforeTransfer(t *testing.T) {
	t.Parallel()
	if got, want := describeProgress(nil, 12*time.Second+300*time.Millisecond), "comparing refs and planning, 12s"; got != want {
		t.Errorf("describeProgress = %q, want %q", got, want)
	}
	for n, want := range map[int64]string{512: "512 B", 1536: "1.5 KiB", 5 << 30: "5.0 GiB"} {
		if got := mirror.ByteSize(n); got != want {
			t.Errorf("mirror.ByteSize(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestAccountProgressGroups: in Actions, account mode puts each repository
// in its own ::group:: with its log, and labels live progress lines with the
// repository.
func TestAccountProgressGroups(t *testing.T) {
	t.Parallel()
	b := setupAccount(t, true)
	for _, n := range []string{"a", "b"} {
		b.src.add(forge.Repo{Owner: "octo", Name: n})
		b.dst.add(forge.Repo{Owner: "mirror", Name: n})
	}
	ft := newFakeTime()
	a := b.app([]string{"--source=github/octo", "--destination=gitee/mirror", "--concurrency=1"})
	a.Now, a.Tick = ft.Now, ft.Tick
	inner := a.Sync
	a.Sync = func(ctx context.Context, opts mirror.Options) (*mirror.Result, error) {
		opts.Logger.Info("syncing now")
		opts.Progress(midTransfer)
		if strings.HasSuffix(opts.Source.URL, "/a.git") {
			ft.at(30 * time.Second)
		}
		return inner(ctx, opts)
	}
	if got := exitCode(a.run(t.Context())); got != exitOK {
		t.Fatalf("exit %d; stdout:\n%s", got, &b.stdout)
	}
	stdout := b.stdout.String()
	for _, n := range []string{"a", "b"} {
		group := "::group::mirrored octo/" + n + " → mirror/" + n
		i := strings.Index(stdout, group)
		if i < 0 {
			t.Fatalf("no group for %s:\n%s", n, stdout)
		}
		body, _, ok := strings.Cut(stdout[i:], "::endgroup::")
		if !ok || !strings.Contains(body, "syncing now") || !strings.Contains(body, "repository="+n) {
			t.Errorf("group of %s does not hold its log:\n%s", n, body)
		}
	}
	if want := "progress: a: sending, 1500 objects"; !strings.Contains(b.stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, &b.stderr)
	}
}
