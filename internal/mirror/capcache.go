package mirror

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
)

// capMaxAge is how long remembered capabilities are used before the
// server is asked again.
const capMaxAge = 24 * time.Hour

// capCacheLimit bounds the file read back: it is a handful of short lines.
const capCacheLimit = 64 << 10

// capCache remembers, in the cache directory, the capabilities a side's
// service advertised. A two-way sync lists each side once, through one
// service (the source's upload-pack, the target's receive-pack); its leg
// from the target to the source needs the other two services too, and
// would otherwise ask for their advertisements, refs and all, only to learn
// their capabilities. Capabilities say how to talk to a server (side band,
// thin packs, reports), not what is in the repository, and a server keeps
// them for years; so a remembered set, younger than capMaxAge, is used
// instead, and forgotten as soon as a leg that used it fails, so that the
// next sync asks again. Refs are never taken from here.
//
// A nil *capCache (no cache directory) remembers nothing.
type capCache struct {
	path string
	now  func() time.Time

	mu      sync.Mutex
	entries map[string]capEntry
	dirty   bool
}

type capEntry struct {
	Caps string    `json:"caps"`
	Seen time.Time `json:"seen"`
}

// loadCapCache reads path; a missing or unreadable file is an empty cache
// (an unreadable one is reported, and rewritten at the next save).
func loadCapCache(path string) (*capCache, error) {
	c := &capCache{path: path, now: time.Now, entries: map[string]capEntry{}}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("error reading capability cache: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, capCacheLimit+1))
	if err != nil {
		return c, fmt.Errorf("error reading capability cache: %w", err)
	}
	if len(b) > capCacheLimit {
		return c, fmt.Errorf("capability cache %s is larger than %d bytes", path, capCacheLimit)
	}
	if err := json.Unmarshal(b, &c.entries); err != nil {
		c.entries = map[string]capEntry{}
		return c, fmt.Errorf("error reading capability cache %s: %w", path, err)
	}
	return c, nil
}

func capKey(r *remote, service string) string { return r.side + " " + service }

// get returns the capabilities remembered for r's service, or nil.
func (c *capCache) get(r *remote, service string) *capability.List {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[capKey(r, service)]
	if !ok || !c.fresh(e) {
		return nil
	}
	l := capability.NewList()
	if err := l.Decode([]byte(e.Caps)); err != nil {
		return nil
	}
	return l
}

// fresh reports whether e was seen less than capMaxAge ago (and not in
// the future, as a clock set back would have it). With c.mu held.
func (c *capCache) fresh(e capEntry) bool {
	now := c.now()
	return now.Sub(e.Seen) <= capMaxAge && !e.Seen.After(now)
}

// v2Refused names the entry for a source that did not answer a protocol
// version 2 fetch (fetchV2): its prefetches use version 0 until the entry
// is older than capMaxAge, when version 2 is tried again.
const v2Refused = "upload-pack v2 refused"

// refusedV2 reports whether r did not answer a version 2 fetch lately.
func (c *capCache) refusedV2(r *remote) bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[capKey(r, v2Refused)]
	return ok && c.fresh(e)
}

// refuseV2 remembers that r did not answer a version 2 fetch.
func (c *capCache) refuseV2(r *remote) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[capKey(r, v2Refused)] = capEntry{Seen: c.now().UTC()}
	c.dirty = true
}

// put remembers what r's service advertised. An empty list is not
// remembered: it is what git's upload-pack advertises for a repository
// with no refs (2.39's, here: a bare flush-pkt), which says nothing of the
// server's capabilities, and a sync that took it for them would find the
// server "too old" for a side band (TestTwoWayModel found it).
func (c *capCache) put(r *remote, service string, caps *capability.List) {
	if c == nil || caps == nil || len(caps.All()) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k, v, now := capKey(r, service), caps.String(), c.now().UTC()
	if e, ok := c.entries[k]; ok && e.Caps == v && !e.Seen.After(now) && now.Sub(e.Seen) < capMaxAge/4 {
		return // the same, and seen recently: not worth rewriting the file
	}
	c.entries[k] = capEntry{Caps: v, Seen: now}
	c.dirty = true
}

// forget drops what is remembered for r's service.
func (c *capCache) forget(r *remote, service string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[capKey(r, service)]; ok {
		delete(c.entries, capKey(r, service))
		c.dirty = true
	}
}

// save writes the cache if it changed.
func (c *capCache) save() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.dirty {
		return nil
	}
	b, err := json.MarshalIndent(c.entries, "", "  ")
	if err != nil {
		return fmt.Errorf("error encoding capability cache: %w", err)
	}
	tmp := c.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("error writing capability cache: %w", err)
	}
	if err := os.Rename(tmp, c.path); err != nil {
		return fmt.Errorf("error writing capability cache: %w", err)
	}
	c.dirty = false
	return nil
}
