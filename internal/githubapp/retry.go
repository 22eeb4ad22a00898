package githubapp

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v62/github"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
)

// maxBackoff caps one wait between attempts.
const maxBackoff = 30 * time.Second

// retrier retries a request with exponential backoff and jitter.
type retrier struct {
	retries int
	base    time.Duration
}

func newRetrier(retries int, base time.Duration) retrier {
	switch {
	case retries == 0:
		retries = DefaultRetries
	case retries < 0:
		retries = 0
	}
	if base <= 0 {
		base = DefaultRetryBase
	}
	return retrier{retries: retries, base: base}
}

// do runs fn once, and again after a backoff while it fails with a server
// error or a transport failure, if the request is safe to repeat. It returns
// the last error, unclassified.
func (r retrier) do(ctx context.Context, repeatable bool, fn func() (*github.Response, error)) error {
	for attempt := 0; ; attempt++ {
		_, err := fn()
		if err == nil || !repeatable || attempt >= r.retries || !retryable(ctx, err) {
			return err
		}
		t := time.NewTimer(r.backoff(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (while waiting to retry after: %w)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

// backoff is base·2^attempt plus up to half of that again, capped.
func (r retrier) backoff(attempt int) time.Duration {
	d := r.base << min(attempt, 16)
	if d <= 0 || d > maxBackoff {
		d = maxBackoff
	}
	return d + rand.N(d/2+1)
}

// retryable reports whether err is a server error (5xx) or a transport
// failure. Rate limits are not retried here: they last until a reset time,
// which the caller's queue is better placed to wait for.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var (
		rl    *github.RateLimitError
		abuse *github.AbuseRateLimitError
		er    *github.ErrorResponse
		he    *ghinstallation.HTTPError
		fe    *failure.Error
		ue    *url.Error
	)
	switch {
	case errors.As(err, &rl), errors.As(err, &abuse):
		return false
	case errors.As(err, &he):
		return he.Response == nil || he.Response.StatusCode >= http.StatusInternalServerError
	case errors.As(err, &er):
		return er.Response != nil && er.Response.StatusCode >= http.StatusInternalServerError
	case errors.As(err, &fe):
		return false // already classified, e.g. a refused redirect
	case errors.As(err, &ue):
		return true
	}
	return false
}
