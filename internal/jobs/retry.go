package jobs

import (
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river/rivertype"
)

// BackoffPolicy retries after Base·2^(attempt-1), capped at Max, with up to
// a tenth more as jitter.
type BackoffPolicy struct {
	Base time.Duration // default 5 s
	Max  time.Duration // default 10 min
}

// NextRetry implements river.ClientRetryPolicy.
func (p *BackoffPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(p.delay(job.Attempt))
}

func (p *BackoffPolicy) delay(attempt int) time.Duration {
	base, ceil := p.Base, p.Max
	if base <= 0 {
		base = 5 * time.Second
	}
	if ceil <= 0 {
		ceil = 10 * time.Minute
	}
	d := base << min(max(attempt-1, 0), 20)
	if d <= 0 || d > ceil {
		d = ceil
	}
	return d + rand.N(d/10+1)
}
