package actioncmd

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// How progress is shown. On a terminal one line rewrites itself every
// second; in a log (GitHub Actions, or output to a file) a plain line comes
// every 10 seconds. A sync shows nothing until it has run for quietTerminal
// or quietLog: one that finishes fast prints no progress at all.
const (
	everyTerminal = time.Second
	quietTerminal = 2 * time.Second
	everyLog      = 10 * time.Second
	quietLog      = 10 * time.Second
	maxLineWidth  = 160 // a terminal line longer than this would wrap and stop rewriting itself
)

// newTicker is the real ticker: App.Tick's default.
func newTicker(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTicker(d)
	return t.C, t.Stop
}

// board shows the progress of the syncs running at the moment: one in
// single-repository mode, up to concurrency in account mode, each under a
// label. Syncs feed it through track; a ticker makes it draw.
type board struct {
	c        *console
	terminal bool
	now      func() time.Time
	quiet    time.Duration

	mu      sync.Mutex // guards the fields below and every write to the console while a line is shown
	running []*tracked
	shown   bool // terminal: a progress line is on screen and must be cleared before other output

	stopTick func()
	stopOnce sync.Once
	done     chan struct{}
	finished chan struct{}
}

// tracked is one running sync.
type tracked struct {
	label string
	start time.Time
	last  *mirror.Progress // nil until the transfer starts
}

// newBoard starts a board; stop it when the run is over.
func (a *App) newBoard(c *console) *board {
	tick := a.Tick
	if tick == nil {
		tick = newTicker
	}
	b := &board{c: c, terminal: a.Terminal && !c.actions, now: a.Now, quiet: quietLog, done: make(chan struct{}), finished: make(chan struct{})}
	every := everyLog
	if b.terminal {
		every, b.quiet = everyTerminal, quietTerminal
	}
	ch, stop := tick(every)
	b.stopTick = stop
	go func() {
		defer close(b.finished)
		for {
			select {
			case <-b.done:
				return
			case <-ch:
				b.draw()
			}
		}
	}()
	return b
}

// track registers a sync under label ("" in single-repository mode). It
// returns the callback for mirror.Options.Progress and a function to call
// when the sync is over.
func (b *board) track(label string) (progress func(mirror.Progress), done func()) {
	t := &tracked{label: label, start: b.now()}
	b.mu.Lock()
	b.running = append(b.running, t)
	b.mu.Unlock()
	progress = func(p mirror.Progress) {
		b.mu.Lock()
		t.last = &p
		b.mu.Unlock()
	}
	done = func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		for i, r := range b.running {
			if r == t {
				b.running = append(b.running[:i], b.running[i+1:]...)
				break
			}
		}
	}
	return progress, done
}

// print runs write, which prints to the console, with the progress line
// cleared first, so that output and progress never share a line.
func (b *board) print(write func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.clear()
	write()
}

// writer returns a writer to w that clears the progress line before each
// write, for the sync's log.
func (b *board) writer(w io.Writer) io.Writer { return boardWriter{b: b, w: w} }

type boardWriter struct {
	b *board
	w io.Writer
}

func (bw boardWriter) Write(p []byte) (n int, err error) {
	bw.b.print(func() { n, err = bw.w.Write(p) })
	return n, err
}

// stop stops the ticker and clears the line. It may be called again.
func (b *board) stop() {
	b.stopOnce.Do(func() {
		b.stopTick()
		close(b.done)
		<-b.finished
		b.mu.Lock()
		defer b.mu.Unlock()
		b.clear()
	})
}

// clear removes the terminal's progress line; b.mu is held.
func (b *board) clear() {
	if b.shown {
		fmt.Fprint(b.c.stderr, "\r\x1b[K")
		b.shown = false
	}
}

// draw shows every sync that has run for longer than the quiet time.
func (b *board) draw() {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	var lines []string
	for _, t := range b.running {
		elapsed := now.Sub(t.start)
		if elapsed < b.quiet {
			continue
		}
		line := describeProgress(t.last, elapsed)
		if t.label != "" {
			line = t.label + ": " + line
		}
		lines = append(lines, b.c.red.String(line))
	}
	if len(lines) == 0 {
		return
	}
	if b.terminal {
		line := strings.Join(lines, " | ")
		if r := []rune(line); len(r) > maxLineWidth {
			line = string(r[:maxLineWidth-1]) + "…"
		}
		fmt.Fprint(b.c.stderr, "\r"+line+"\x1b[K")
		b.shown = true
		return
	}
	for _, l := range lines {
		fmt.Fprintln(b.c.stderr, "progress: "+l)
	}
}

// describeProgress says in a line where a sync is.
func describeProgress(p *mirror.Progress, elapsed time.Duration) string {
	el := elapsed.Round(time.Second)
	if p == nil || (p.Received == 0 && p.Sent == 0) {
		s := fmt.Sprintf("comparing refs and planning, %s", el)
		if p != nil && p.Remote != "" {
			s += " · source: " + p.Remote
		}
		return s
	}
	parts := []string{string(p.Phase)}
	if p.Objects > 0 {
		parts = append(parts, fmt.Sprintf("%d objects", p.Objects))
	}
	parts = append(parts, mirror.ByteSize(p.Received)+" received", mirror.ByteSize(p.Sent)+" sent")
	if s := elapsed.Seconds(); s > 0 {
		parts = append(parts, mirror.ByteSize(int64(float64(max(p.Received, p.Sent))/s))+"/s")
	}
	parts = append(parts, el.String())
	s := strings.Join(parts, ", ")
	if p.Remote != "" {
		s += " · source: " + p.Remote
	}
	return s
}
