package config

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// baseURL checks an absolute http(s) URL without credentials, query or
// fragment. A site URL (GitHub's, Gitee's: tokens go there) must be https
// unless plain http is allowed explicitly (GITEE_MIRROR_ALLOW_HTTP).
func baseURL(raw string, site, allowHTTP bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("%.80q is not an absolute http(s) URL", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("the URL must not carry credentials, a query or a fragment")
	}
	if site && u.Scheme == "http" && !allowHTTP {
		return nil, fmt.Errorf("%.80q is not https: tokens go to this host, so the App talks to it over https only (set %s=true to allow plain http, e.g. for a local forge)", raw, EnvAllowHTTP)
	}
	return u, nil
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
		return 0, fmt.Errorf("%.80q is not a size (bytes, or e.g. 25MiB)", raw)
	}
	return n * mult, nil
}
