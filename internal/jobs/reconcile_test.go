package jobs

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

func TestSpreadOffset(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		d    time.Duration
		i, n int
		want time.Duration
	}{
		"first at once":       {d: time.Hour, i: 0, n: 4, want: 0},
		"evenly":              {d: time.Hour, i: 3, n: 4, want: 45 * time.Minute},
		"one mirror":          {d: time.Hour, i: 0, n: 1, want: 0},
		"10,000 mirrors":      {d: 5 * time.Minute, i: 9999, n: 10000, want: 299970 * time.Millisecond},
		"no spread":           {d: 0, i: 3, n: 4, want: 0},
		"no mirrors at all":   {d: time.Hour, i: 0, n: 0, want: 0},
		"negative is none":    {d: -time.Minute, i: 2, n: 4, want: 0},
		"last before the end": {d: 10 * time.Minute, i: 1, n: 2, want: 5 * time.Minute},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := spreadOffset(tt.d, tt.i, tt.n); got != tt.want {
				t.Errorf("spreadOffset(%s, %d, %d) = %s, want %s", tt.d, tt.i, tt.n, got, tt.want)
			}
		})
	}
}

func TestReconcileSpreadDefaults(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		interval, spread, want time.Duration
	}{
		"the interval by default": {interval: time.Hour, want: time.Hour},
		"its own":                 {interval: time.Hour, spread: time.Minute, want: time.Minute},
		"negative: at once":       {interval: time.Hour, spread: -1, want: 0},
		"no reconcile":            {interval: -1, want: 0},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := Config{ReconcileInterval: tt.interval, ReconcileSpread: tt.spread}
			if got := c.reconcileSpread(); got != tt.want {
				t.Errorf("reconcileSpread() = %s, want %s", got, tt.want)
			}
		})
	}
}

// jobLister is the River client's job listing, which the queue's client has.
type jobLister interface {
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
}

// TestReconcileSpreadsRound: a round schedules its mirrors' syncs evenly
// over the interval, the first at once, rather than queueing them all; a
// push to a mirror whose turn is later is synced now all the same.
func TestReconcileSpreadsRound(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	var ms []*store.Mirror
	for _, name := range []string{"alpha", "beta", "gamma", "delta"} {
		m := b.mirror(t, name)
		if err := b.st.SetStatus(ctx, m.ID, store.StatusInSync); err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	b.runner.onSync(func(context.Context, *store.Mirror) (*mirror.Result, error) { return noopResult(), nil })
	stop, done := context.WithTimeout(ctx, waitFor)
	defer done()
	if err := b.q.Stop(stop); err != nil {
		t.Fatal(err)
	}
	// The periodic job runs on start: a round over an hour.
	b.start(t, b.runner, func(c *Config) { c.ReconcileInterval = time.Hour })
	if id := b.runner.waitStarted(t); id != ms[0].ID {
		t.Fatalf("first reconcile sync of mirror %d, want the first mirror's (%d) at once", id, ms[0].ID)
	}

	lister, ok := b.q.client.(jobLister)
	if !ok {
		t.Fatalf("the queue's client (%T) cannot list jobs", b.q.client)
	}
	res, err := lister.JobList(ctx, river.NewJobListParams().Kinds(SyncArgs{}.Kind()).First(100))
	if err != nil {
		t.Fatal(err)
	}
	at := map[int64]*rivertype.JobRow{}
	for _, j := range res.Jobs {
		var args SyncArgs
		if err := json.Unmarshal(j.EncodedArgs, &args); err != nil {
			t.Fatal(err)
		}
		at[args.MirrorID] = j
	}
	if len(at) != len(ms) {
		t.Fatalf("%d sync jobs for %d mirrors: %v", len(at), len(ms), at)
	}
	first := at[ms[0].ID].ScheduledAt
	for i, m := range ms[1:] {
		j := at[m.ID]
		want := time.Duration(i+1) * 15 * time.Minute
		if got := j.ScheduledAt.Sub(first); got < want-time.Second || got > want+time.Second {
			t.Errorf("mirror %d scheduled %s after the first, want %s", m.ID, got, want)
		}
		if j.State != rivertype.JobStateScheduled {
			t.Errorf("mirror %d's reconcile sync is %s, want scheduled", m.ID, j.State)
		}
	}

	// delta's turn is in 45 minutes; a push to it does not wait for it.
	b.request(t, ms[3].ID, store.TriggerPush, false)
	for {
		if id := b.runner.waitStarted(t); id == ms[3].ID {
			break
		} else if id != ms[0].ID {
			t.Fatalf("mirror %d synced before its turn", id)
		}
	}
	for _, m := range ms[1:3] {
		if n := b.runner.callsOf(m.ID); n != 0 {
			t.Errorf("mirror %d synced %d times before its turn", m.ID, n)
		}
	}
}
