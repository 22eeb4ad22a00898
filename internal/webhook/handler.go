package webhook

import (
	"context"
	"log/slog"
)

// EventHandler handles one kind of GitHub event. Parse runs after the
// signature was verified and before the delivery id is recorded, so that a
// malformed payload (400) or an ignored action (202) leaves no trace; the
// Task it returns runs after deduplication.
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
	// Run does the work. An error means the store or queue could not take
	// it: the delivery is forgotten and answered 503.
	Run func(ctx context.Context, log *slog.Logger) error
}
