package store

import (
	"context"
	"time"
)

// States keeps one-time values: the state of a sign-in or an App
// registration between leaving for GitHub and coming back, which any
// replica behind the load balancer may receive. A value is taken once.
type States interface {
	// PutState keeps value under key (a random token) until expires.
	// States that have expired are dropped. ErrConflict when key is in
	// use.
	PutState(ctx context.Context, key string, value []byte, expires time.Time) error
	// TakeState returns the value under key and forgets it; ErrNotFound
	// when there is none, it was taken, or it has expired.
	TakeState(ctx context.Context, key string) ([]byte, error)
}
