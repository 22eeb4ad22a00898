package mirror

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Phase is the long step of a sync that a Progress reports on.
type Phase string

// Phases of a transfer.
const (
	// PhaseReceiving: a pack is being read from the source (spooled, or
	// read to settle ancestry) and nothing is being sent yet.
	PhaseReceiving Phase = "receiving"
	// PhaseSending: a pack is being sent to the target; when it streams
	// from the source as it arrives, Received and Sent grow together.
	PhaseSending Phase = "sending"
)

// Progress is a snapshot of a sync's object transfer, for a person
// watching: Options.Progress receives one each time it changes, which may be
// many times a second; the receiver decides how often to show it. It never
// holds a secret.
type Progress struct {
	Phase Phase `json:"phase"`
	// Objects is the number of objects in the pack being moved, from its
	// header; 0 until the header has arrived.
	Objects int64 `json:"objects"`
	// Received and Sent count pack bytes read from the source and written
	// to the target so far in this sync.
	Received int64 `json:"received_bytes"`
	Sent     int64 `json:"sent_bytes"`
	// Remote is the source's last progress message (Git's side band 2,
	// e.g. "Compressing objects:  45% (9/20)"), one line, control
	// characters removed.
	Remote string `json:"remote,omitempty"`
	// Elapsed since the sync started.
	Elapsed time.Duration `json:"elapsed_ns"`
}

// maxRemoteLine bounds Progress.Remote: it is a server's text, shown to a
// person.
const maxRemoteLine = 200

// tracker collects Progress for Options.Progress. A nil tracker does
// nothing, so the transfer code calls it unconditionally.
type tracker struct {
	fn     func(Progress)
	start  time.Time
	redact func(string) string

	mu sync.Mutex
	p  Progress
}

func newTracker(fn func(Progress), redact func(string) string) *tracker {
	if fn == nil {
		return nil
	}
	return &tracker{fn: fn, start: time.Now(), redact: redact}
}

// update changes the snapshot and hands a copy to the callback, outside
// the lock, so a slow callback never blocks the other side's counting.
func (t *tracker) update(change func(*Progress)) {
	if t == nil {
		return
	}
	t.mu.Lock()
	change(&t.p)
	t.p.Elapsed = time.Since(t.start)
	p := t.p
	t.mu.Unlock()
	t.fn(p)
}

// phase records the step the sync entered.
func (t *tracker) phase(ph Phase) { t.update(func(p *Progress) { p.Phase = ph }) }

// remoteMessage takes a side-band 2 payload: Git rewrites a progress line
// with "\r" and ends it with "\n"; the last non-empty piece is the news.
func (t *tracker) remoteMessage(b []byte) {
	if t == nil {
		return
	}
	pieces := strings.FieldsFunc(string(b), func(r rune) bool { return r == '\r' || r == '\n' })
	for i := len(pieces) - 1; i >= 0; i-- {
		line := strings.TrimSpace(strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return -1
			}
			return r
		}, pieces[i]))
		if line == "" {
			continue
		}
		if len(line) > maxRemoteLine {
			line = line[:maxRemoteLine]
		}
		line = t.redact(line)
		t.update(func(p *Progress) { p.Remote = line })
		return
	}
}

// receiving wraps a pack read from the source; sending, one written to the
// target. Both count bytes, and the first to see a pack header records its
// object count.
func (t *tracker) receiving(r io.Reader) io.Reader {
	if t == nil {
		return r
	}
	t.phase(PhaseReceiving)
	return &countReader{r: r, t: t, add: func(p *Progress, n int64) { p.Received += n }}
}

func (t *tracker) sending(r io.Reader) io.Reader {
	if t == nil || r == nil {
		return r
	}
	t.phase(PhaseSending)
	return &countReader{r: r, t: t, add: func(p *Progress, n int64) { p.Sent += n }}
}

// countReader counts what passes and reads the pack header ("PACK",
// version, object count) from the first 12 bytes.
type countReader struct {
	r    io.Reader
	t    *tracker
	add  func(*Progress, int64)
	head []byte
}

func (c *countReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	if n > 0 {
		var objects int64 = -1
		if len(c.head) < 12 {
			c.head = append(c.head, b[:min(n, 12-len(c.head))]...)
			if len(c.head) == 12 && bytes.HasPrefix(c.head, []byte("PACK")) {
				objects = int64(binary.BigEndian.Uint32(c.head[8:]))
			}
		}
		c.t.update(func(p *Progress) {
			c.add(p, int64(n))
			if objects >= 0 {
				p.Objects = objects
			}
		})
	}
	return n, err
}

// ByteSize formats a byte count for people, in binary units: 512 B,
// 12.3 KiB, 4.0 MiB, 1.2 GiB. The Action's progress lines and the App's
// pages show a Progress's counts with it.
func ByteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
