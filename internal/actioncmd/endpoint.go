package actioncmd

import (
	"errors"
	"net/url"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/validate"
)

// site says which hosting site a repository lives on; it picks the default
// username and whether github-token may be sent there.
type site int

const (
	siteOther site = iota
	siteGitHub
	siteGitee
)

// String is the site's prefix in github/… and gitee/… names.
func (s site) String() string {
	switch s {
	case siteGitHub:
		return "github"
	case siteGitee:
		return "gitee"
	}
	return "other"
}

// bases are the web addresses that github/… and gitee/… resolve against,
// without a trailing slash.
type bases struct {
	github string // github-url, e.g. https://github.com
	gitee  string // gitee-url, e.g. https://gitee.com
}

// repo is a resolved source or destination.
type repo struct {
	url   string // Git URL, no credentials
	site  site
	owner string // first path element on Gitee: the default username there
	name  string // REPO of github/OWNER/REPO or gitee/OWNER/REPO; "" for a URL
	local string // absolute path of a repository on this machine (local.go); url is "" until it is served
}

// shortForm is the hint every resolution error ends with.
const shortForm = "want github/OWNER/REPO, gitee/OWNER/REPO, an https:// Git URL or a local path (/…, ./…, ../…)"

// resolve turns the value of input name into a repository. Errors never
// quote the value: it may be a URL with a token in it.
func resolve(name, value string, b bases) (repo, error) {
	if p, ok := localPath(value); ok {
		return repo{local: p}, nil
	}
	switch {
	case strings.HasPrefix(value, "github/"):
		owner, path, err := ownerRepo(name, validate.GitHub, strings.TrimPrefix(value, "github/"))
		if err != nil {
			return repo{}, err
		}
		return repo{url: b.github + "/" + path + ".git", site: siteGitHub, owner: owner, name: path[len(owner)+1:]}, nil
	case strings.HasPrefix(value, "gitee/"):
		owner, path, err := ownerRepo(name, validate.Gitee, strings.TrimPrefix(value, "gitee/"))
		if err != nil {
			return repo{}, err
		}
		return repo{url: b.gitee + "/" + path + ".git", site: siteGitee, owner: owner, name: path[len(owner)+1:]}, nil
	}
	u, err := checkURL(name, value)
	if err != nil {
		return repo{}, err
	}
	r := repo{url: u.String()}
	if rest, ok := under(u, b.github); ok {
		r.site, r.owner = siteGitHub, firstElem(rest)
	} else if rest, ok := under(u, b.gitee); ok {
		r.site, r.owner = siteGitee, firstElem(rest)
	}
	return r, nil
}

// ownerRepo checks "OWNER/REPO" with site's rules (internal/validate,
// the App's too) and returns the owner and "OWNER/REPO" without a ".git"
// suffix.
func ownerRepo(name string, site validate.Site, s string) (owner, path string, err error) {
	if strings.Count(s, "/") != 1 {
		return "", "", inputErrorf(name, "%s", shortForm)
	}
	owner, rp, err := validate.Repo(site, s)
	var ve *validate.Error
	if errors.As(err, &ve) {
		// Without the value: it may hold a token.
		return "", "", inputErrorf(name, "OWNER and REPO: the %s breaks %s's rules: %s; %s", ve.What, site, ve.Reason, shortForm)
	}
	if err != nil {
		return "", "", inputErrorf(name, "%s", shortForm)
	}
	return owner, owner + "/" + rp, nil
}

// checkURL parses an http(s) URL and refuses credentials, a query or a
// fragment in it: they would travel into logs, outputs and the report.
func checkURL(name, value string) (*url.URL, error) {
	u, err := url.Parse(value)
	// url.Parse's error quotes the value: never pass it on.
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, inputErrorf(name, "%s", shortForm)
	}
	if u.User != nil {
		return nil, inputErrorf(name, "the URL holds credentials; remove them and pass the token in the %s-token input (or the %s variable) instead", name, secretEnv(name+"-token"))
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, inputErrorf(name, "the URL must not have a query (?…) or fragment (#…)")
	}
	return u, nil
}

// under reports whether u is below base, and returns the path below it.
func under(u *url.URL, base string) (string, bool) {
	b, err := url.Parse(base)
	if err != nil || !strings.EqualFold(u.Scheme, b.Scheme) || !strings.EqualFold(u.Host, b.Host) {
		return "", false
	}
	prefix := strings.TrimSuffix(b.Path, "/") + "/"
	if !strings.HasPrefix(u.Path, prefix) {
		return "", false
	}
	return strings.TrimPrefix(u.Path, prefix), true
}

func firstElem(p string) string {
	first, _, _ := strings.Cut(p, "/")
	return first
}

// checkBase validates github-url or gitee-url and strips a trailing slash.
func checkBase(name, value string) (string, error) {
	u, err := url.Parse(value)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", inputErrorf(name, "want an http:// or https:// address such as https://gitee.com")
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", inputErrorf(name, "the address must not hold credentials, a query or a fragment")
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}
