package mirror

import (
	"context"
	"errors"
)

// Sync mirrors the in-scope refs of opts.Source to opts.Target.
//
// The returned error is non-nil when the sync as a whole could not run (bad
// token, repository not found, network down after retries); it is then a
// *failure.Error. Per-ref problems (diverged, rejected) are in the Result,
// with a nil error. A partial Result may accompany an error.
func Sync(ctx context.Context, opts Options) (*Result, error) {
	return nil, errors.New("not implemented yet")
}
