package store

import (
	"context"
	"errors"
	"time"
)

// ErrLeaseLost: the lease is no longer held by the caller: it lapsed and
// someone else took it, or it was released.
var ErrLeaseLost = errors.New("lease lost")

// Lease is a claim on a key (a mirror's sync) by one holder until it
// expires: a running sync holds one and renews it; when its process dies
// the lease lapses and whoever sees that takes the work over.
type Lease struct {
	Key    string // what is claimed, e.g. "mirror:42"
	Holder string // who: a process id, unique per process start
	JobID  int64  // the job the holder works the key for; part of the claim
	// ExpiresAt is when the lease lapses unless renewed (read only: Take
	// and Renew set it from the database's clock).
	ExpiresAt time.Time
}

// Leases keeps leases and request counters in the database, so that every
// replica sharing it sees them. Times come from one clock for all replicas
// where the backend has one (Postgres's), else from the process's.
type Leases interface {
	// TakeLease claims l.Key for l.Holder and l.JobID for ttl. It succeeds
	// when nobody holds the key, the lease lapsed, or the same holder and
	// job hold it already (then it is renewed); it returns false, without
	// error, when someone else holds a lease that has not lapsed. A ttl of
	// zero or less takes a lease that has already lapsed.
	TakeLease(ctx context.Context, l Lease, ttl time.Duration) (bool, error)
	// TakeOverLease gives the lease that old.Holder and old.JobID hold to
	// l.Holder and l.JobID for ttl, only if it lapsed; false when it was
	// renewed, released or taken by someone else meanwhile. (TakeLease
	// would also succeed on a lease released a moment ago: a sweeper must
	// not take a finishing job for a dead one.)
	TakeOverLease(ctx context.Context, old, l Lease, ttl time.Duration) (bool, error)
	// RenewLease extends a lease the same holder and job hold to ttl from
	// now; ErrLeaseLost when they no longer hold it. A lapsed lease that
	// nobody took meanwhile is renewed.
	RenewLease(ctx context.Context, l Lease, ttl time.Duration) error
	// ReleaseLease gives up a lease the same holder and job hold; releasing
	// one that is not held is no error.
	ReleaseLease(ctx context.Context, l Lease) error
	// GetLease returns the lease on key, lapsed or not; ErrNotFound when
	// none is held.
	GetLease(ctx context.Context, key string) (*Lease, error)

	// BumpCounter adds one to the counter of key (created at 0) and
	// returns the new value: a request sequence that every replica sees.
	BumpCounter(ctx context.Context, key string) (int64, error)
	// Counter returns the value of key's counter, 0 if never bumped.
	Counter(ctx context.Context, key string) (int64, error)
}
