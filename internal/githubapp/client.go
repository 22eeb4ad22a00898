package githubapp

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
)

// Defaults.
const (
	// DefaultAPIURL is github.com's REST API.
	DefaultAPIURL = "https://api.github.com/"
	// DefaultGitURL is where github.com serves Git over HTTPS.
	DefaultGitURL = "https://github.com"
	// GitUsername is the basic-auth user name GitHub accepts with any token
	// (installation tokens, GITHUB_TOKEN, personal access tokens).
	GitUsername = "x-access-token"
	// DefaultRetries is how often an idempotent request is retried.
	DefaultRetries = 3
	// DefaultRetryBase is the first backoff delay; it doubles per retry.
	DefaultRetryBase = time.Second

	userAgent = "gitee-mirror"
	perPage   = 100
)

// Options configure a Client. The zero value talks to github.com.
type Options struct {
	// APIURL is the REST API base URL; default https://api.github.com/.
	// For GitHub Enterprise Server give https://HOST/api/v3/ (the runner's
	// GITHUB_API_URL); a bare https://HOST/ gets api/v3/ appended. Any other
	// path is used as it is.
	APIURL string
	// GitURL is the base of Git URLs; default https://github.com (the
	// runner's GITHUB_SERVER_URL).
	GitURL string
	// Retries is how often an idempotent request (GET, PATCH) is retried
	// after a server error (5xx) or a transport failure. 0 means
	// DefaultRetries; negative means never.
	Retries int
	// RetryBase is the first backoff delay, doubled on each retry; 0 means
	// DefaultRetryBase.
	RetryBase time.Duration
	// Transport is the base transport under NewWithToken's token transport;
	// default http.DefaultTransport. New ignores it.
	Transport http.RoundTripper
}

// Client is GitHub as a forge.Forge. It is safe for concurrent use.
type Client struct {
	gh      *github.Client
	gitBase string
	creds   forge.Credentials
	retry   retrier
	secrets []string // scrubbed from every error

	// app and installation are set for an installation's client, which
	// mints narrowed tokens (RepoToken).
	app          *AppTransport
	installation int64

	mu        sync.Mutex
	selfKnown bool   // GET /user has answered
	self      string // the token's user; "" when the token has none (installation token)
}

// NewWithToken returns a Client authenticated by a static token, such as an
// Action's GITHUB_TOKEN or a personal access token. The token is sent only to
// the API host (never to a host a redirect points at) and is the password of
// GitCredentials. An empty token makes anonymous requests.
func NewWithToken(token string, opts Options) (*Client, error) {
	api, err := parseAPIURL(opts.APIURL)
	if err != nil {
		return nil, err
	}
	base := opts.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc := &http.Client{
		Transport:     &tokenTransport{token: token, scheme: api.Scheme, host: api.Host, base: base},
		CheckRedirect: sameHostRedirects,
	}
	var creds forge.Credentials
	if token != "" {
		creds = forge.Credentials{Username: GitUsername, Token: token}
	}
	return New(hc, creds, opts)
}

// New returns a Client whose requests go through httpClient, which carries
// the authentication (for example an installation transport). creds are what
// GitCredentials returns; an empty Username defaults to GitUsername.
func New(httpClient *http.Client, creds forge.Credentials, opts Options) (*Client, error) {
	gh, err := newGitHub(httpClient, opts.APIURL)
	if err != nil {
		return nil, err
	}
	gitBase, err := parseGitURL(opts.GitURL)
	if err != nil {
		return nil, err
	}
	if creds.Username == "" && creds.Token != "" {
		creds.Username = GitUsername
	}
	c := &Client{
		gh:      gh,
		gitBase: gitBase,
		creds:   creds,
		retry:   newRetrier(opts.Retries, opts.RetryBase),
	}
	if creds.Token != "" {
		c.secrets = []string{creds.Token}
	}
	return c, nil
}

// Name is "github".
func (c *Client) Name() string { return "github" }

// API is the underlying go-github client, for calls this package does not
// wrap (check runs, contents). Classify its errors with Classify.
func (c *Client) API() *github.Client { return c.gh }

// GitURL is {GitURL}/{owner}/{name}.git, without credentials.
func (c *Client) GitURL(owner, name string) string {
	return c.gitBase + "/" + url.PathEscape(owner) + "/" + url.PathEscape(name) + ".git"
}

// GitCredentials are x-access-token and the token. They are empty for a
// Client built on an installation transport: Git pushes there use
// AppTransport.RepoToken.
func (c *Client) GitCredentials() forge.Credentials { return c.creds }

// newGitHub builds a go-github client on hc with the given API base URL.
func newGitHub(hc *http.Client, apiURL string) (*github.Client, error) {
	api, err := parseAPIURL(apiURL)
	if err != nil {
		return nil, err
	}
	capped := http.Client{}
	if hc != nil {
		capped = *hc
	}
	capped.Transport = capBodies(capped.Transport)
	gh := github.NewClient(&capped)
	gh.UserAgent = userAgent
	if api.Path == "/" && api.Host != "api.github.com" || strings.HasSuffix(api.Path, "/api/v3/") {
		// GitHub Enterprise Server: uploads live under /api/uploads/.
		return gh.WithEnterpriseURLs(api.String(), api.Scheme+"://"+api.Host+"/")
	}
	gh.BaseURL = api
	if api.Host != "api.github.com" {
		u := *api
		gh.UploadURL = &u
	} // else go-github's default, https://uploads.github.com/
	return gh, nil
}

// parseAPIURL checks an API base URL and gives it a trailing slash.
func parseAPIURL(raw string) (*url.URL, error) {
	if raw == "" {
		raw = DefaultAPIURL
	}
	u, err := parseBaseURL("GitHub API URL", raw)
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u, nil
}

// parseGitURL checks the Git base URL and drops a trailing slash.
func parseGitURL(raw string) (string, error) {
	if raw == "" {
		raw = DefaultGitURL
	}
	u, err := parseBaseURL("GitHub server URL", raw)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(u.String(), "/"), nil
}

func parseBaseURL(what, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, failure.New(failure.Invalid, "%s must be an absolute http(s) URL such as %s", what, DefaultAPIURL)
	}
	if u.User != nil {
		// Do not echo it: the user part may hold a token.
		return nil, failure.New(failure.Invalid, "%s must not contain a user name or token; pass the token separately", what)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, failure.New(failure.Invalid, "%s must not have a query or fragment", what)
	}
	return u, nil
}

// tokenTransport adds "Authorization: Bearer token" to requests for the API
// host, and to nothing else.
type tokenTransport struct {
	token        string
	scheme, host string
	base         http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.token == "" || req.URL.Scheme != t.scheme || (req.URL.Host != t.host && req.URL.Host != uploadsHost(t.host)) {
		return t.base.RoundTrip(req)
	}
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+t.token)
	return t.base.RoundTrip(r)
}

// uploadsHost is where release assets of github.com are uploaded; GitHub
// Enterprise Server takes them on the API host.
func uploadsHost(apiHost string) string {
	if apiHost == "api.github.com" {
		return "uploads.github.com"
	}
	return apiHost
}

// sameHostRedirects follows redirects on the same scheme and host only
// (GitHub redirects renamed repositories that way).
func sameHostRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return failure.New(failure.Internal, "GitHub redirected more than 10 times")
	}
	first := via[0].URL
	if req.URL.Host != first.Host || req.URL.Scheme != first.Scheme {
		return failure.New(failure.Rejected, "GitHub API redirected to another host (%s); not followed", req.URL.Host)
	}
	return nil
}
