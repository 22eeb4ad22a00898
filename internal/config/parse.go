package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// baseURL checks an absolute http(s) URL without credentials, query or
// fragment. With remote, it must be https unless its host is a loopback
// address (tests and local forges): the App talks to GitHub and Gitee over
// https only.
func baseURL(raw string, remote bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("the URL must not carry credentials, a query or a fragment")
	}
	if remote && u.Scheme == "http" && !loopback(u.Hostname()) {
		return nil, fmt.Errorf("%q is not https: the App talks to GitHub and Gitee over https only", raw)
	}
	return u, nil
}

// loopback reports whether host names this machine.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// duration parses a positive Go duration; "" gives def.
func duration(raw string, def time.Duration) (time.Duration, error) {
	if raw == "" {
		return def, nil
	}
	d, err := time.ParseDuration(raw)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration (e.g. 90s, 30m, 1h)", raw)
	}
	return d, nil
}

// sizeSuffixes are the units parseBytes knows, longest first so that
// "MiB" is not read as "B".
var sizeSuffixes = []struct {
	suffix string
	mult   int64
}{
	{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30},
	{"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30},
}

// parseBytes reads a size: a number of bytes, or one with a KiB, MiB or GiB
// suffix (KB, MB and GB are taken as the same powers of two).
func parseBytes(raw string) (int64, error) {
	s, mult := strings.ToUpper(strings.TrimSpace(raw)), int64(1)
	for _, u := range sizeSuffixes {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 || n > (1<<40)/mult {
		return 0, fmt.Errorf("%q is not a size (bytes, or e.g. 25MiB)", raw)
	}
	return n * mult, nil
}
