// Package corerun is the sync core's side of the benchmarks: one
// mirror.Sync configured from the environment, its result printed as a
// JSON line. bench/corehelper runs it as a program of its own (so that its
// time and peak memory are those of the core, not of the test binary and
// everything it links); the bench test binary can run it too
// (TestCoreHelperProcess).
package corerun

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// Environment of the helper. Tokens travel only here, never in argv.
const (
	EnvHelper   = "GM_BENCH_HELPER" // "core"
	EnvSrcURL   = "GM_BENCH_SRC_URL"
	EnvSrcUser  = "GM_BENCH_SRC_USER"
	EnvSrcToken = "GM_BENCH_SRC_TOKEN"
	EnvDstURL   = "GM_BENCH_DST_URL"
	EnvDstUser  = "GM_BENCH_DST_USER"
	EnvDstToken = "GM_BENCH_DST_TOKEN"
	EnvLFS      = "GM_BENCH_LFS"       // Options.LFS (BenchmarkLFS)
	EnvCacheDir = "GM_BENCH_CACHE_DIR" // Options.CacheDir
	// EnvHints is Options.Hints as "ref=id" pairs separated by spaces:
	// what a push event would tell the App or the Action.
	EnvHints = "GM_BENCH_HINTS"
	// EnvTrace ("1") makes the helper time each HTTP request. Off by
	// default, so the measured core is exactly the production one.
	EnvTrace = "GM_BENCH_TRACE"
	// EnvCPUProfile and EnvMemProfile name files for a CPU profile and an
	// allocation profile of the run (every allocation sampled).
	EnvCPUProfile = "GM_BENCH_CORE_CPUPROFILE"
	EnvMemProfile = "GM_BENCH_CORE_MEMPROFILE"
	// ResultPrefix starts the line that carries the Report.
	ResultPrefix = "GM-BENCH-CORE-RESULT "
)

// Report is what the helper prints about its sync.
type Report struct {
	OK       bool     `json:"ok"`
	NoOp     bool     `json:"noop"`
	Bytes    int64    `json:"bytes"`
	Refs     int      `json:"refs"`
	Changed  int      `json:"changed"`
	Attempts int      `json:"attempts"`
	Error    string   `json:"error,omitempty"`
	Duration int64    `json:"duration_ns"`
	Trace    []string `json:"trace,omitempty"` // with GM_BENCH_TRACE=1

	LFSUploaded int `json:"lfs_uploaded"` // with GM_BENCH_LFS
	LFSMissing  int `json:"lfs_missing"`
}

// Main runs one sync as the environment says and prints its Report. It
// returns the exit code: 0 when a report was printed (a failed sync is in
// the report), 1 when a profile could not be written.
//
// Without a source URL it does nothing: that measures the start-up.
func Main() int {
	if os.Getenv(EnvSrcURL) == "" {
		return 0
	}
	if p := os.Getenv(EnvMemProfile); p != "" {
		runtime.MemProfileRate = 1
	}
	if p := os.Getenv(EnvCPUProfile); p != "" {
		f, err := os.Create(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	opts := mirror.Options{
		Source:   mirror.Endpoint{URL: os.Getenv(EnvSrcURL), Username: os.Getenv(EnvSrcUser), Token: os.Getenv(EnvSrcToken)},
		Target:   mirror.Endpoint{URL: os.Getenv(EnvDstURL), Username: os.Getenv(EnvDstUser), Token: os.Getenv(EnvDstToken)},
		Prune:    true,
		LFS:      mirror.LFSMode(os.Getenv(EnvLFS)),
		CacheDir: os.Getenv(EnvCacheDir),
		Hints:    hints(os.Getenv(EnvHints)),
		Logger:   slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	var tr *Tracer
	if os.Getenv(EnvTrace) == "1" {
		tr = NewTracer(mirror.DefaultHTTPClient())
		opts.HTTPClient = tr.Client(opts.Source.URL, opts.Target.URL)
	}
	res, err := mirror.Sync(context.Background(), opts)
	rep := Report{}
	if res != nil {
		rep = Report{OK: res.OK(), NoOp: res.NoOp, Bytes: res.Bytes, Refs: len(res.Refs),
			Changed: len(res.Changed()), Attempts: res.Attempts, Duration: int64(res.Duration)}
		if res.LFS != nil {
			rep.LFSUploaded, rep.LFSMissing = res.LFS.Uploaded, res.LFS.Missing
		}
		for _, r := range res.Refs {
			if !r.OK() {
				fmt.Fprintf(os.Stderr, "ref %s: %s (%s) %s\n", r.Ref, r.Outcome, r.Class, r.Message)
			}
		}
	}
	if err != nil {
		rep.Error = err.Error()
	}
	if tr != nil {
		rep.Trace = tr.Lines()
	}
	if p := os.Getenv(EnvMemProfile); p != "" {
		f, err := os.Create(p)
		if err == nil {
			err = pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	out, _ := json.Marshal(rep)
	fmt.Printf("\n%s%s\n", ResultPrefix, out)
	return 0
}

// Tracer records, per request, when it started, when the response headers
// came and when its body was finished, relative to its creation.
type Tracer struct {
	start    time.Time
	next     *http.Client
	src, dst string
	mu       sync.Mutex
	reqs     []*traced
}

type traced struct {
	what                string
	begin, headers, end time.Duration
	in, out             int64
}

// NewTracer traces the requests of clients made from next (Client).
func NewTracer(next *http.Client) *Tracer { return &Tracer{start: time.Now(), next: next} }

// Client is next with every request traced; src and dst are the two sides'
// URLs, to name which side a request went to.
func (t *Tracer) Client(src, dst string) *http.Client {
	t.src, t.dst = src, dst
	c := *t.next
	c.Transport = t
	return &c
}

// RoundTrip implements http.RoundTripper.
func (t *Tracer) RoundTrip(req *http.Request) (*http.Response, error) {
	side := "source"
	if strings.HasPrefix(req.URL.String(), t.dst) {
		side = "target"
	}
	r := &traced{what: side + " " + req.Method + " " + path.Base(req.URL.Path), begin: time.Since(t.start)}
	if q := req.URL.Query().Get("service"); q != "" {
		r.what += "?" + q
	}
	if req.Body != nil {
		req.Body = &countBody{ReadCloser: req.Body, n: &r.out}
	}
	t.mu.Lock()
	t.reqs = append(t.reqs, r)
	t.mu.Unlock()
	resp, err := t.next.Transport.RoundTrip(req)
	r.headers = time.Since(t.start)
	if err != nil {
		r.end = r.headers
		return nil, err
	}
	resp.Body = &countBody{ReadCloser: resp.Body, n: &r.in, done: func() { r.end = time.Since(t.start) }}
	return resp, nil
}

// Lines describes every request, one line each, in the order they started.
func (t *Tracer) Lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	mib := func(n int64) string { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }
	var out []string
	for _, r := range t.reqs {
		out = append(out, fmt.Sprintf("%-45s start %6.0f ms, headers %6.0f ms, done %6.0f ms; sent %s, received %s",
			r.what, ms(r.begin), ms(r.headers), ms(r.end), mib(r.out), mib(r.in)))
	}
	return out
}

// countBody counts bytes and notes the end of a body (EOF or Close).
type countBody struct {
	io.ReadCloser
	n    *int64
	done func()
	once sync.Once
}

func (c *countBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	*c.n += int64(n)
	if err != nil && c.done != nil {
		c.once.Do(c.done)
	}
	return n, err
}

func (c *countBody) Close() error {
	if c.done != nil {
		c.once.Do(c.done)
	}
	return c.ReadCloser.Close()
}

// hints parses EnvHints; nil when empty.
func hints(v string) map[string]string {
	var m map[string]string
	for _, f := range strings.Fields(v) {
		if ref, id, ok := strings.Cut(f, "="); ok {
			if m == nil {
				m = map[string]string{}
			}
			m[ref] = id
		}
	}
	return m
}
