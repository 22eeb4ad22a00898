package actioncmd

import (
	"strings"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/validate"
	"github.com/go-git/go-git/v5/plumbing"
)

// Input names: the public contract, declared in action.yml. Outside Actions
// each is also a flag of the same name.
const (
	inSource              = "source"
	inDestination         = "destination"
	inSourceUsername      = "source-username"
	inDestinationUsername = "destination-username"
	inBranches            = "branches"
	inTags                = "tags"
	inForce               = "force"
	inPrune               = "prune"
	inDryRun              = "dry-run"
	inTimeout             = "timeout"
	inCachePath           = "cache-path"
	inGitHubURL           = "github-url"
	inGiteeURL            = "gitee-url"
)

// Defaults, the same as action.yml's, so the binary run by hand behaves as
// the Action does.
const (
	defaultForce     = "false"
	defaultPrune     = "true"
	defaultDryRun    = "false"
	defaultTimeout   = "30m"
	defaultGitHubURL = "https://github.com" // when GITHUB_SERVER_URL is unset too
	defaultGiteeURL  = "https://gitee.com"
	defaultUsername  = "x-access-token" // GitHub's username for any token
	userAgent        = "gitee-mirror-action"
)

// parseOptions turns inputs into sync options. get returns an input's raw
// value ("" when absent); getenv reads the environment for the defaults that
// come from the workflow (GITHUB_REPOSITORY, GITHUB_SERVER_URL).
func parseOptions(get, getenv func(string) string, sec secrets) (mirror.Options, error) {
	var opts mirror.Options
	if err := sec.validate(); err != nil {
		return opts, err
	}
	b, err := readBases(get, getenv)
	if err != nil {
		return opts, err
	}

	source := get(inSource)
	if source == "" {
		own := getenv("GITHUB_REPOSITORY")
		if own == "" {
			return opts, inputErrorf(inSource, "required outside a workflow (GITHUB_REPOSITORY is not set); %s", shortForm)
		}
		source = "github/" + own
	}
	src, err := resolve(inSource, source, b)
	if err != nil {
		return opts, err
	}
	destination := get(inDestination)
	if destination == "" {
		return opts, inputErrorf(inDestination, "required; %s", shortForm)
	}
	dst, err := resolve(inDestination, destination, b)
	if err != nil {
		return opts, err
	}
	if strings.EqualFold(src.url+src.local, dst.url+dst.local) {
		return opts, inputErrorf(inDestination, "source and destination are the same repository")
	}
	opts.Source = endpoint(src, get(inSourceUsername), sec.source, sec.github)
	opts.Target = endpoint(dst, get(inDestinationUsername), sec.destination, sec.github)
	if err := refuseAccountInputs(get); err != nil {
		return opts, err
	}
	if strings.EqualFold(source, "github/"+getenv("GITHUB_REPOSITORY")) {
		opts.Hints = pushHint(getenv)
	}
	err = parsePolicy(get, &opts)
	return opts, err
}

// pushHint is mirror.Options.Hints for a workflow run that a push to a
// branch of the source repository started: GITHUB_REF now has GITHUB_SHA.
// With cache-path, the sync then fetches that commit while it lists both
// sides. nil for any other run (a tag push's GITHUB_SHA is the commit, not
// the tag; a deletion's is zeros).
func pushHint(getenv func(string) string) map[string]string {
	ref, sha := getenv("GITHUB_REF"), strings.ToLower(getenv("GITHUB_SHA"))
	if getenv("GITHUB_EVENT_NAME") != "push" || !strings.HasPrefix(ref, "refs/heads/") ||
		!plumbing.IsHash(sha) || plumbing.NewHash(sha).IsZero() {
		return nil
	}
	return map[string]string{ref: sha}
}

// readBases reads github-url (default: the runner's GITHUB_SERVER_URL) and
// gitee-url.
func readBases(get, getenv func(string) string) (bases, error) {
	var (
		b   bases
		err error
	)
	if b.github, err = checkBase(inGitHubURL, or(get(inGitHubURL), getenv("GITHUB_SERVER_URL"), defaultGitHubURL)); err != nil {
		return b, err
	}
	if b.gitee, err = checkBase(inGiteeURL, or(get(inGiteeURL), defaultGiteeURL)); err != nil {
		return b, err
	}
	return b, nil
}

// parsePolicy reads the inputs that shape every sync, of one repository or of
// each repository of an account: ref filters, force, prune, dry run, timeout
// and cache.
func parsePolicy(get func(string) string, opts *mirror.Options) error {
	var err error
	if opts.Branches, err = globs(inBranches, get(inBranches)); err != nil {
		return err
	}
	switch tags := get(inTags); strings.ToLower(tags) {
	case "false":
		opts.NoTags = true
	case "true":
		// all tags, as when empty
	default:
		if opts.Tags, err = globs(inTags, tags); err != nil {
			return err
		}
	}

	if opts.Force, err = boolean(inForce, or(get(inForce), defaultForce)); err != nil {
		return err
	}
	if opts.Prune, err = boolean(inPrune, or(get(inPrune), defaultPrune)); err != nil {
		return err
	}
	if err := parseTwoWay(get, opts); err != nil {
		return err
	}
	if opts.DryRun, err = boolean(inDryRun, or(get(inDryRun), defaultDryRun)); err != nil {
		return err
	}
	if opts.Timeout, err = duration(inTimeout, or(get(inTimeout), defaultTimeout)); err != nil {
		return err
	}
	if opts.LFS, err = parseLFS(get); err != nil {
		return err
	}
	opts.CacheDir = get(inCachePath)
	opts.UserAgent = userAgent
	return nil
}

// endpoint builds one side. A side on the GitHub server without its own token
// gets github-token: GitHub's own token goes to GitHub only, never to Gitee
// or another host.
func endpoint(r repo, username, token, githubToken string) mirror.Endpoint {
	if token == "" && r.site == siteGitHub {
		token = githubToken
	}
	if username == "" && token != "" {
		switch r.site {
		case siteGitHub:
			username = defaultUsername
		case siteGitee:
			// Gitee's Git server wants the token owner's login; the
			// repository owner is right for personal repositories.
			username = r.owner
		}
	}
	return mirror.Endpoint{URL: r.url, Username: username, Token: token}
}

// globs splits a list of globs on commas and line breaks. A leading "!"
// excludes. Empty means all.
func globs(name, v string) ([]string, error) {
	var out []string
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		out = append(out, f)
	}
	// The App's rules (internal/validate): a pattern no ref name can
	// match, or a list of thousands, is a mistake to report.
	if err := validate.Patterns(name, out); err != nil {
		return nil, inputErrorf(name, "%v", err)
	}
	return out, nil
}

// boolean parses a yes/no input strictly: anything else is an error, never
// silently false.
func boolean(name, v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true", "yes", "1":
		return true, nil
	case "false", "no", "0":
		return false, nil
	}
	return false, inputErrorf(name, "want true or false (or yes/no, 1/0), got %q", v)
}

// duration parses a positive Go duration such as "30m" or "1h30m".
func duration(name, v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, inputErrorf(name, "want a positive duration such as 30m or 1h30m, got %q", v)
	}
	return d, nil
}

// or returns the first non-empty value.
func or(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
