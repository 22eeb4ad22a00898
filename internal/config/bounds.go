package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Ranges of the tunables. Below a floor the App hammers GitHub and Gitee
// (a reconcile every nanosecond) or cannot finish anything; above a ceiling
// it hides failures for days or holds memory for bodies no site sends.
const (
	MinMaxFailures = 1
	MaxMaxFailures = 100

	MinSyncTimeout = time.Minute
	MaxSyncTimeout = 24 * time.Hour

	MinReconcileInterval = time.Minute
	MaxReconcileInterval = 24 * time.Hour

	// No spacing at all is allowed (syncs back to back, as before it
	// existed); more than a minute keeps a push during a sync from
	// landing for that long.
	MinSyncSpacing = 0
	MaxSyncSpacing = time.Minute

	// No interval at all is allowed (every worker starts at once); more
	// than a second would keep a replica below one start a second, which
	// a reconcile round of thousands of mirrors cannot live with.
	MinSyncStartInterval = 0
	MaxSyncStartInterval = time.Second

	MinShutdownTimeout = time.Second

	// A lease shorter than a few seconds lapses on a slow database
	// round trip; a longer one than 5 minutes leaves a dead replica's
	// mirror stuck for that long.
	MinLeaseTTL        = 5 * time.Second
	MaxLeaseTTL        = 5 * time.Minute
	MinLeaseRenew      = time.Second
	MaxLeaseRenew      = 2 * time.Minute
	MaxShutdownTimeout = 10 * time.Minute

	// GitHub sends at most 25 MB; a push payload is a few KiB.
	MinWebhookMaxBytes = 64 << 10
	MaxWebhookMaxBytes = 100 << 20

	MinAdminTokenLen = 16
	MaxAdminTokenLen = 256

	// maxFileBytes caps what a _FILE variable may name: a PEM key is
	// under 4 KiB; a log file or device named by mistake is not read whole.
	maxFileBytes = 64 << 10
)

// durationIn parses a Go duration within [lo, hi]; "" gives def.
func durationIn(raw string, def, lo, hi time.Duration) (time.Duration, error) {
	if raw == "" {
		return def, nil
	}
	d, err := time.ParseDuration(raw)
	if err != nil {
		return 0, fmt.Errorf("%.80q is not a duration: want one from %s (e.g. 90s, 30m, 1h)", raw, durationRange(lo, hi))
	}
	if d < lo || d > hi {
		return 0, fmt.Errorf("%s is out of range: want %s", shortDuration(d), durationRange(lo, hi))
	}
	return d, nil
}

// intIn parses a whole number within [lo, hi]; "" gives def.
func intIn(raw string, def, lo, hi int) (int, error) {
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		return 0, fmt.Errorf("%.80q is not a whole number: want one from %d to %d", raw, lo, hi)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%d is out of range: want %d to %d", n, lo, hi)
	}
	return n, nil
}

// bytesIn parses a size within [lo, hi]; "" gives def.
func bytesIn(raw string, def, lo, hi int64) (int64, error) {
	if raw == "" {
		return def, nil
	}
	n, err := parseBytes(raw)
	if err != nil {
		return 0, fmt.Errorf("%w: want one from %s", err, sizeRange(lo, hi))
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%s is out of range: want %s", shortSize(n), sizeRange(lo, hi))
	}
	return n, nil
}

func durationRange(lo, hi time.Duration) string {
	return shortDuration(lo) + " to " + shortDuration(hi)
}

func rangeInt(lo, hi int) string { return strconv.Itoa(lo) + " to " + strconv.Itoa(hi) }

func sizeRange(lo, hi int64) string { return shortSize(lo) + " to " + shortSize(hi) }

// shortDuration writes 1m rather than 1m0s, 24h rather than 24h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// shortSize writes a size in the largest unit that divides it.
func shortSize(n int64) string {
	for _, u := range []struct {
		name string
		mult int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.mult && n%u.mult == 0 {
			return strconv.FormatInt(n/u.mult, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
