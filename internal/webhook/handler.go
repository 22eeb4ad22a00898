package webhook

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// EventHandler handles one kind of GitHub event. Parse runs twice: in the
// intake after the signature was verified and before the delivery is
// recorded, so that a malformed payload (400) or an ignored action (202)
// leaves no trace; and in the Forwarder, from the recorded payload, whose
// Task it then runs. Parse must be a pure function of the payload.
type EventHandler interface {
	// Events names the X-GitHub-Event values it handles.
	Events() []string
	// Parse decodes a payload and returns the work it asks for, or nil
	// when the action is one this App ignores.
	Parse(event string, payload []byte) (*Task, error)
}

// Task is the work one delivery asks for: store updates and queue requests
// only, never Git or API calls.
type Task struct {
	Action         string // the payload's action, or what a push did
	InstallationID int64
	Repo           string // "owner/name" when the event is about one repository
	// Key, when set, names the work: tasks with the same Key are the same
	// work, so the Forwarder does it once for several deliveries waiting
	// together (at the last one's turn). Empty: never merged.
	Key string
	// Record, when set, is what the inbox keeps for the Forwarder instead
	// of the payload: the fields the work needs, which the same Parse reads
	// back to the same Task. A push payload is 7–8 KB of URLs, authors and
	// commit messages; its record a few hundred bytes, which the database
	// writes, reads back and rewrites as handled at a fraction of the cost
	// (issue 13: a third of Postgres's time at 1,000 deliveries a second).
	Record []byte
	// Run does the work. An error means the store or queue could not take
	// it: the Forwarder tries again later. Run may run more than once for
	// one delivery (a crash between the work and its record), so its work
	// must be safe to repeat.
	Run func(ctx context.Context, log *slog.Logger) error
	// Syncs, when set, says that Run's whole work is requesting syncs, and
	// returns them (reading the store, requesting nothing). A Forwarder
	// with a SyncRequester then calls it instead of Run, and requests the
	// syncs of the deliveries around this one together: one round trip to
	// the database for a batch's locks, one for its counters and one for
	// its jobs, where a request each costs several.
	Syncs func(ctx context.Context) ([]store.SyncRequest, error)
}

// SyncRequester asks for several mirrors' syncs at once and returns the ids
// of those requested (mirrors deleted meanwhile are skipped); jobs.Queue is
// one.
type SyncRequester interface {
	RequestSyncs(ctx context.Context, reqs []store.SyncRequest) ([]int64, error)
}

// byEvent maps each event to its handler. Two handlers for one event are a
// bug and panic.
func byEvent(hs []EventHandler) map[string]EventHandler {
	m := map[string]EventHandler{}
	for _, h := range hs {
		for _, ev := range h.Events() {
			if _, dup := m[ev]; dup {
				panic(fmt.Sprintf("webhook: two handlers for GitHub event %q", ev))
			}
			m[ev] = h
		}
	}
	return m
}
