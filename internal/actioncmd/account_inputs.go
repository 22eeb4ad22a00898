package actioncmd

import (
	"strconv"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/validate"
)

// Inputs of account mode (source github/OWNER or gitee/OWNER): the public
// contract, declared in action.yml and README.md. Outside Actions each is
// also a flag of the same name.
const (
	inRepositories  = "repositories"
	inInclude       = "include"
	inExclude       = "exclude"
	inMappings      = "mappings"
	inCreateMissing = "create-missing"
	inVisibility    = "visibility"
	inForks         = "forks"
	inArchived      = "archived"
	inConcurrency   = "concurrency"
	inAccountType   = "account-type"
	inGiteeAPIURL   = "gitee-api-url"
)

// Defaults of account mode, the same as action.yml's.
const (
	defaultCreateMissing = "true"
	defaultVisibility    = visibilitySource
	defaultForks         = "false"
	defaultArchived      = "false"
	defaultConcurrency   = "4"
	maxConcurrency       = 32 // more only trips the sites' rate limits
)

// Values of the visibility input.
const (
	visibilityPrivate = "private"
	visibilityPublic  = "public"
	visibilitySource  = "source" // the same as the source repository
)

// accountOnlyInputs make sense only with an account as source; given with
// one repository they are refused rather than silently ignored. (Inputs with
// a non-empty default, such as concurrency, cannot be told apart from absent
// ones inside Actions, so they are not listed.)
var accountOnlyInputs = []string{inRepositories, inInclude, inExclude, inMappings, inAccountType}

// account is one side of an account-mode run.
type account struct {
	role       string // inSource or inDestination, for messages
	site       site
	owner      string
	token      string // "" for anonymous access (public GitHub repositories)
	tokenInput string // the input the token comes from, for messages
	username   string // the *-username input; "" when not given
}

// String is the account as the inputs name it: "gitee/OWNER".
func (a account) String() string { return a.site.String() + "/" + a.owner }

// hosts are the web and API addresses of both sites, without trailing
// slashes except where the GitHub client wants one.
type hosts struct {
	github, githubAPI string
	gitee, giteeAPI   string
}

// accountOptions are the inputs of an account-mode run, checked.
type accountOptions struct {
	source, destination account
	kind                forge.AccountKind // account-type of the source; "" detects
	hosts               hosts
	repositories        []string // fixed list; nil means list the source account
	sel                 selection
	createMissing       bool
	visibility          string
	concurrency         int
	releases            bool // mirror releases too (releases.go)
	// sync is the template of every repository's sync: policy, timeout,
	// cache; the endpoints are filled in per repository.
	sync mirror.Options
}

// accountRef reports whether v names a whole account, github/OWNER or
// gitee/OWNER, and returns its site and owner (unchecked).
func accountRef(v string) (site, string, bool) {
	for _, s := range []site{siteGitHub, siteGitee} {
		rest, ok := strings.CutPrefix(v, s.String()+"/")
		rest = strings.TrimSuffix(rest, "/")
		if ok && rest != "" && !strings.Contains(rest, "/") {
			return s, rest, true
		}
	}
	return siteOther, "", false
}

// parseAccount reads the inputs of an account-mode run.
func parseAccount(get, getenv func(string) string, sec secrets) (*accountOptions, error) {
	if err := sec.validate(); err != nil {
		return nil, err
	}
	o := &accountOptions{}
	b, err := readBases(get, getenv)
	if err != nil {
		return nil, err
	}
	if o.hosts, err = readHosts(get, getenv, b); err != nil {
		return nil, err
	}
	if o.source, err = parseSide(inSource, get(inSource), get(inSourceUsername), sec.source, inSourceToken, sec); err != nil {
		return nil, err
	}
	if o.destination, err = parseSide(inDestination, get(inDestination), get(inDestinationUsername), sec.destination, inDestinationToken, sec); err != nil {
		return nil, err
	}
	if o.source.site == o.destination.site && strings.EqualFold(o.source.owner, o.destination.owner) {
		return nil, inputErrorf(inDestination, "source and destination are the same account")
	}
	if o.kind, err = accountKind(get(inAccountType), o.source.site); err != nil {
		return nil, err
	}
	if err := o.readLists(get); err != nil {
		return nil, err
	}
	if err := o.readSwitches(get); err != nil {
		return nil, err
	}
	if err := parsePolicy(get, &o.sync); err != nil {
		return nil, err
	}
	if o.releases, err = readReleases(get); err != nil {
		return nil, err
	}
	return o, nil
}

// readHosts adds the API addresses to the web ones: gitee-api-url defaults
// to gitee-url's /api/v5; GitHub's is the runner's GITHUB_API_URL when
// github-url is the runner's server (GitHub Enterprise Server included), else
// derived from github-url.
func readHosts(get, getenv func(string) string, b bases) (hosts, error) {
	h := hosts{github: b.github, gitee: b.gitee}
	var err error
	if h.giteeAPI, err = checkBase(inGiteeAPIURL, or(get(inGiteeAPIURL), b.gitee+"/api/v5")); err != nil {
		return h, err
	}
	server, api := getenv("GITHUB_SERVER_URL"), getenv("GITHUB_API_URL")
	switch {
	case api != "" && (server == "" || strings.EqualFold(strings.TrimSuffix(server, "/"), b.github)):
		if h.githubAPI, err = checkBase("GITHUB_API_URL", api); err != nil {
			return h, &inputError{msg: "the GITHUB_API_URL variable is not an http(s) address"}
		}
	case strings.EqualFold(b.github, defaultGitHubURL):
		h.githubAPI = "https://api.github.com"
	default:
		h.githubAPI = b.github + "/api/v3"
	}
	h.githubAPI += "/"
	return h, nil
}

// parseSide checks source or destination as an account and picks its token:
// the side's own, else github-token for a side on GitHub. Gitee's API needs a
// token on either side.
func parseSide(name, value, username, token, tokenInput string, sec secrets) (account, error) {
	s, owner, ok := accountRef(value)
	if value == "" {
		return account{}, inputErrorf(name, "required: with an account as source, want github/OWNER or gitee/OWNER")
	}
	if !ok {
		return account{}, inputErrorf(name, "with an account as source, both sides are accounts: want github/OWNER or gitee/OWNER")
	}
	vs := validate.GitHub
	if s == siteGitee {
		vs = validate.Gitee
	}
	if err := validate.Owner(vs, owner); err != nil {
		return account{}, inputErrorf(name, "%v", err)
	}
	a := account{role: name, site: s, owner: owner, token: token, tokenInput: tokenInput, username: username}
	if a.token == "" && s == siteGitHub && sec.github != "" {
		a.token, a.tokenInput = sec.github, inGitHubToken
	}
	if a.token == "" && s == siteGitee {
		return account{}, inputErrorf(tokenInput, "a Gitee account needs a personal access token (scope projects) to list and create repositories: set the %s input or the %s variable", tokenInput, secretEnv(tokenInput))
	}
	if a.token == "" && name == inDestination {
		return account{}, &inputError{msg: noTokenMessage(s)}
	}
	return a, nil
}

// accountKind parses account-type. Enterprises exist on Gitee only.
func accountKind(v string, s site) (forge.AccountKind, error) {
	switch strings.ToLower(v) {
	case "":
		return "", nil
	case "user":
		return forge.User, nil
	case "org", "organization", "organisation":
		return forge.Org, nil
	case "enterprise":
		if s != siteGitee {
			return "", inputErrorf(inAccountType, "enterprise accounts exist on Gitee only; for GitHub use user or org")
		}
		return forge.Enterprise, nil
	}
	return "", inputErrorf(inAccountType, "want user, org or enterprise (or empty to detect), got %q", v)
}

// readLists reads repositories, include, exclude and mappings.
func (o *accountOptions) readLists(get func(string) string) error {
	var err error
	if o.repositories, err = repoNames(inRepositories, get(inRepositories)); err != nil {
		return err
	}
	if o.sel.include, err = nameGlobs(inInclude, get(inInclude)); err != nil {
		return err
	}
	if o.sel.exclude, err = nameGlobs(inExclude, get(inExclude)); err != nil {
		return err
	}
	o.sel.mappings, err = parseMappings(inMappings, get(inMappings))
	return err
}

// readSwitches reads create-missing, visibility, forks, archived and
// concurrency.
func (o *accountOptions) readSwitches(get func(string) string) error {
	var err error
	if o.createMissing, err = boolean(inCreateMissing, or(get(inCreateMissing), defaultCreateMissing)); err != nil {
		return err
	}
	if o.sel.forks, err = boolean(inForks, or(get(inForks), defaultForks)); err != nil {
		return err
	}
	if o.sel.archived, err = boolean(inArchived, or(get(inArchived), defaultArchived)); err != nil {
		return err
	}
	switch v := strings.ToLower(or(get(inVisibility), defaultVisibility)); v {
	case visibilityPrivate, visibilityPublic, visibilitySource:
		o.visibility = v
	default:
		return inputErrorf(inVisibility, "want private, public or source (the same as the source repository), got %q", v)
	}
	v := or(get(inConcurrency), defaultConcurrency)
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxConcurrency {
		return inputErrorf(inConcurrency, "want a whole number from 1 to %d, got %q", maxConcurrency, v)
	}
	o.concurrency = n
	return nil
}

// refuseAccountInputs rejects account-only inputs given with one repository.
func refuseAccountInputs(get func(string) string) error {
	for _, name := range accountOnlyInputs {
		if get(name) != "" {
			return inputErrorf(name, "applies only when source is a whole account (github/OWNER or gitee/OWNER)")
		}
	}
	return nil
}
