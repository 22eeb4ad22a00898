package store

import (
	"context"
	"time"
)

// Inbox is the durable record of webhook deliveries between their
// acknowledgement and their handling. Intake answers a delivery once Accept
// has committed it (the only write on that path), and a forwarder handles
// what is pending afterwards, in arrival order, so that a slow main
// database or a busy queue never delays an acknowledgement and a crash
// loses nothing that was acknowledged.
//
// Accepted delivery ids are kept after handling (without their payloads),
// so that a redelivery of the past days is recognised as a duplicate, until
// Prune drops them.
type Inbox interface {
	// Accept records a delivery with its payload as pending. first is
	// false, and nothing is stored, when (Source, ID) was accepted before.
	Accept(ctx context.Context, d *Delivery) (first bool, err error)
	// Pending returns up to limit pending deliveries that have failed fewer
	// than maxAttempts times, oldest first.
	Pending(ctx context.Context, limit, maxAttempts int) ([]*Delivery, error)
	// Handled marks deliveries handled and drops their payloads.
	Handled(ctx context.Context, seqs ...int64) error
	// Failed records a failed attempt at handling a delivery and returns its
	// failure count. A delivery with maxAttempts failures stays in the
	// inbox, payload and last error included, but Pending skips it.
	Failed(ctx context.Context, seq int64, msg string) (attempts int, err error)
	// Counts returns how many deliveries are pending (failures fewer than
	// maxAttempts) and how many were given up (maxAttempts or more).
	Counts(ctx context.Context, maxAttempts int) (pending, givenUp int, err error)
	// Prune drops handled deliveries received before before.
	Prune(ctx context.Context, before time.Time) error
	// Ping checks that the inbox answers.
	Ping(ctx context.Context) error
	// Close closes the inbox.
	Close() error
}

// ForwardLocker is an Inbox that several App processes share (Postgres).
// The forwarder holds its lock from reading pending deliveries until it has
// marked them handled, so that replicas take turns: without it every
// replica read the same pending deliveries and did their work again, three
// times over with three replicas, and fell behind by a minute at 1,000
// deliveries a second.
type ForwardLocker interface {
	// LockForward waits for the inbox's forwarding lock and returns its
	// release.
	LockForward(ctx context.Context) (unlock func(), err error)
}

// Delivery is one webhook delivery in the Inbox.
type Delivery struct {
	// Seq orders deliveries by arrival; set by Accept.
	Seq int64
	// Source is "github" or "gitee"; ID is unique within a source (GitHub's
	// X-GitHub-Delivery).
	Source, ID string
	// Event names the payload's kind (X-GitHub-Event).
	Event string
	// Payload is what the forwarder needs to handle the delivery; it must
	// hold no secret.
	Payload []byte
	// ReceivedAt is set by Accept.
	ReceivedAt time.Time
	// Attempts counts failed attempts at handling it; LastError is the
	// latest failure's message.
	Attempts  int
	LastError string
}
