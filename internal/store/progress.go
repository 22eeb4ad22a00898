package store

import (
	"context"
	"time"
)

// SyncProgress is how far a mirror's running sync has got, for people
// watching its pages: the replica running the sync writes it every few
// seconds, so that any replica serving the page shows it. One row per
// mirror; it is cleared when the sync ends.
type SyncProgress struct {
	MirrorID  int64
	Phase     string // "receiving" or "sending" (mirror.Phase)
	Objects   int64  // objects in the pack, once its header arrived
	Received  int64  // pack bytes read from the source so far
	Sent      int64  // pack bytes written to the target so far
	Remote    string // the source's last progress message; never a secret
	StartedAt time.Time
	UpdatedAt time.Time // set by SetProgress
}

// Elapsed is how long the sync had run when the progress was written.
func (p *SyncProgress) Elapsed() time.Duration { return p.UpdatedAt.Sub(p.StartedAt) }

// Rate is the transfer's average speed so far, in bytes a second: of the
// bytes sent once sending started, else of those received.
func (p *SyncProgress) Rate() float64 {
	secs := p.Elapsed().Seconds()
	if secs <= 0 {
		return 0
	}
	return float64(max(p.Sent, p.Received)) / secs
}

// Progresses keeps SyncProgress in the database.
type Progresses interface {
	// SetProgress records (or replaces) a mirror's progress; UpdatedAt is
	// now. ErrNotFound when the mirror does not exist.
	SetProgress(ctx context.Context, p *SyncProgress) error
	// ClearProgress forgets it: the sync ended. Clearing a mirror without
	// progress is not an error.
	ClearProgress(ctx context.Context, mirrorID int64) error
	// Progress returns a mirror's progress; ErrNotFound when none is kept.
	Progress(ctx context.Context, mirrorID int64) (*SyncProgress, error)
}
