package riverdb

import (
	"fmt"
	"log/slog"

	"github.com/riverqueue/river"
	"riverqueue.com/riverui"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// QueueUI implements store.JobDB: River UI on a River client of its own
// that works no jobs, so that it serves any replica's view of the queue.
func (d *DB[TTx]) QueueUI(prefix string, log *slog.Logger) (store.QueueUI, error) {
	client, err := river.NewClient(d.driver, &river.Config{Logger: log})
	if err != nil {
		return nil, fmt.Errorf("error creating the queue UI's client: %w", err)
	}
	h, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(client, nil),
		// Job arguments name mirrors, never secrets; hidden by default
		// all the same, to keep the list short.
		JobListHideArgsByDefault: true,
		Logger:                   log,
		Prefix:                   prefix,
	})
	if err != nil {
		return nil, fmt.Errorf("error creating the queue UI: %w", err)
	}
	return h, nil
}
