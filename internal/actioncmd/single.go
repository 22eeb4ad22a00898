package actioncmd

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// inAllowHTTP lets a token travel over plain http://. Off by default: a
// token sent that way can be read by anyone on the path.
const (
	inAllowHTTP      = "allow-http"
	defaultAllowHTTP = "false"
)

// repoOptions are the inputs of a one-repository run, checked: the sync's
// options and what creating a missing destination takes.
type repoOptions struct {
	sync          mirror.Options
	src, dst      repo
	hosts         hosts
	createMissing bool
	visibility    string
	dstUsername   string // the destination-username input, "" when absent
}

// parseRepo reads the inputs of a one-repository run. Beyond parseOptions
// it checks what account mode would check too (the account-mode switches and
// addresses, so a typo is never silently ignored), that the destination has
// a token, and that no token goes over plain http:// without allow-http.
func parseRepo(get, getenv func(string) string, sec secrets, warn func(string)) (*repoOptions, error) {
	opts, err := parseOptions(get, getenv, sec)
	if err != nil {
		return nil, err
	}
	ro := &repoOptions{sync: opts, dstUsername: get(inDestinationUsername)}
	b, err := readBases(get, getenv)
	if err != nil {
		return nil, err
	}
	if ro.hosts, err = readHosts(get, getenv, b); err != nil {
		return nil, err
	}
	var sw accountOptions // validated here, used only in account mode but create-missing and visibility
	if err := sw.readSwitches(get); err != nil {
		return nil, err
	}
	ro.createMissing, ro.visibility = sw.createMissing, sw.visibility
	// parseOptions resolved both already; again here to keep site and owner.
	ro.src, _ = resolve(inSource, or(get(inSource), "github/"+getenv("GITHUB_REPOSITORY")), b)
	ro.dst, _ = resolve(inDestination, get(inDestination), b)
	if opts.Target.Token == "" && ro.dst.local == "" {
		// Said plainly: the push would fail later with a confusing
		// "rejected the credentials" from the server.
		return nil, &inputError{msg: noTokenMessage(ro.dst.site)}
	}
	allow, err := boolean(inAllowHTTP, or(get(inAllowHTTP), defaultAllowHTTP))
	if err != nil {
		return nil, err
	}
	for _, side := range []struct {
		role string
		ep   mirror.Endpoint
	}{{inSource, opts.Source}, {inDestination, opts.Target}} {
		if err := checkPlainHTTP(side.role, side.ep.URL, side.ep.Token != "", allow, warn); err != nil {
			return nil, err
		}
	}
	return ro, nil
}

// checkAccountHTTP applies checkPlainHTTP to the Git and API addresses of
// both sides of an account-mode run.
func checkAccountHTTP(o *accountOptions, get func(string) string, warn func(string)) error {
	allow, err := boolean(inAllowHTTP, or(get(inAllowHTTP), defaultAllowHTTP))
	if err != nil {
		return err
	}
	warned := map[string]bool{}
	once := func(msg string) {
		if !warned[msg] {
			warned[msg] = true
			warn(msg)
		}
	}
	for _, a := range []account{o.source, o.destination} {
		for _, addr := range []string{o.hosts.web(a.site), o.hosts.api(a.site)} {
			if err := checkPlainHTTP(a.role, addr, a.token != "", allow, once); err != nil {
				return err
			}
		}
	}
	return nil
}

// noTokenMessage says where the destination's token comes from.
func noTokenMessage(s site) string {
	msg := "no token for the destination: set DESTINATION_TOKEN (in a workflow, the destination-token input"
	switch s {
	case siteGitee:
		msg += "; for Gitee, a personal access token with the projects scope"
	case siteGitHub:
		msg += "; a destination on the GitHub server also takes github-token"
	}
	return msg + ")"
}

// checkPlainHTTP refuses to send a token to an http:// address unless the
// person opted in with allow-http; then it warns, once per address.
func checkPlainHTTP(role, address string, hasToken, allow bool, warn func(string)) error {
	u, err := url.Parse(address)
	if err != nil || !strings.EqualFold(u.Scheme, "http") || !hasToken {
		return nil
	}
	if !allow {
		return inputErrorf(role, "%s is a plain http:// address and the %s token would travel unencrypted: use https://, or set allow-http: true if you accept that risk (e.g. a server on your own machine)", u.Host, role)
	}
	warn(fmt.Sprintf("allow-http: the %s token is sent over plain http:// to %s; anyone on the path can read it", role, u.Host))
	return nil
}
