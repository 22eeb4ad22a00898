package gitee

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
)

// Defaults for Config.
const (
	DefaultBaseURL    = "https://gitee.com/api/v5"
	DefaultGitBaseURL = "https://gitee.com"
	DefaultUserAgent  = "gitee-mirror"
)

// Config describes how to reach a Gitee host. Only Token is required.
type Config struct {
	// BaseURL is the OpenAPI v5 root, e.g. https://gitee.com/api/v5.
	BaseURL string
	// GitBaseURL is where Git repositories live, e.g. https://gitee.com.
	// When empty it is derived from BaseURL (scheme and host).
	GitBaseURL string
	// Token is a personal access token (scopes: projects; hook for webhooks).
	Token string
	// Username, when set, is used by GitCredentials until the token's login
	// has been learned from GET /user.
	Username string
	// HTTPClient is copied; the copy never follows redirects. Nil means a
	// client with a 60 s timeout.
	HTTPClient *http.Client
	// UserAgent defaults to DefaultUserAgent.
	UserAgent string
	// Retry tunes retries of transient failures; zero fields take defaults.
	Retry RetryPolicy
}

// RetryPolicy tunes retries with capped exponential backoff.
type RetryPolicy struct {
	// MaxAttempts counts the first try; 1 disables retries. Default 4.
	MaxAttempts int
	// BaseDelay is the wait before the second attempt; it doubles each time.
	// Default 500 ms.
	BaseDelay time.Duration
	// MaxDelay caps one wait, including one asked for by Retry-After.
	// Default 30 s. A Retry-After longer than this is not waited for.
	MaxDelay time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 4
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 500 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 30 * time.Second
	}
	if p.MaxDelay < p.BaseDelay {
		p.MaxDelay = p.BaseDelay
	}
	return p
}

// Client talks to one Gitee host with one token. It is safe for concurrent
// use.
type Client struct {
	base    *url.URL // API root, no trailing slash in Path
	gitBase string   // no trailing slash
	token   string
	ua      string
	hc      *http.Client
	retry   RetryPolicy

	mu    sync.Mutex
	login string // learned from GET /user, or Config.Username until then
	known bool   // login came from GET /user
	// created holds the display names of repositories CreateRepo made, by
	// lower-case "owner/path", until the first UpdateRepo of each.
	created map[string]string
}

// New returns a client for cfg. It makes no request; call User to check the
// token.
func New(cfg Config) (*Client, error) {
	if strings.TrimSpace(cfg.Token) == "" {
		return nil, failure.New(failure.Invalid, "no Gitee token given: create a personal access token at %s/profile/personal_access_tokens", DefaultGitBaseURL)
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	base, err := parseBase(cfg.BaseURL, "API base URL")
	if err != nil {
		return nil, err
	}
	var git *url.URL
	if cfg.GitBaseURL == "" {
		git = &url.URL{Scheme: base.Scheme, Host: base.Host}
	} else if git, err = parseBase(cfg.GitBaseURL, "Git base URL"); err != nil {
		return nil, err
	}
	hc := &http.Client{Timeout: 60 * time.Second}
	if cfg.HTTPClient != nil {
		c := *cfg.HTTPClient
		hc = &c
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	ua := cfg.UserAgent
	if ua == "" {
		ua = DefaultUserAgent
	}
	return &Client{
		base:    base,
		gitBase: strings.TrimSuffix(git.String(), "/"),
		token:   cfg.Token,
		ua:      ua,
		hc:      hc,
		retry:   cfg.Retry.withDefaults(),
		login:   cfg.Username,
	}, nil
}

// parseBase checks an http(s) URL without credentials, query or fragment.
func parseBase(raw, what string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, failure.New(failure.Invalid, "the Gitee %s %q is not an http(s) URL", what, raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, failure.New(failure.Invalid, "the Gitee %s must not carry credentials, a query or a fragment", what)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// Name is "gitee".
func (c *Client) Name() string { return "gitee" }

// GitURL is the HTTPS Git URL of a repository, without credentials.
func (c *Client) GitURL(owner, name string) string {
	return c.gitBase + "/" + url.PathEscape(owner) + "/" + url.PathEscape(name) + ".git"
}

// GitCredentials returns the token's login and the token for Git over HTTPS.
// The login is learned by User or Login (front ends call User once to check
// the token); until then it is Config.Username, possibly empty.
func (c *Client) GitCredentials() forge.Credentials {
	c.mu.Lock()
	defer c.mu.Unlock()
	return forge.Credentials{Username: c.login, Token: c.token}
}

// tokenPage is where a person makes a new token on this host.
func (c *Client) tokenPage() string { return c.gitBase + "/profile/personal_access_tokens" }

// User is a Gitee account as GET /user describes it.
type User struct {
	ID    int64
	Login string
	Name  string
}

// User returns the token's own account (GET /user). It is the way to check
// that a token works; it also teaches GitCredentials the login.
func (c *Client) User(ctx context.Context) (*User, error) {
	var u struct {
		ID    int64  `json:"id"`
		Login string `json:"login"`
		Name  string `json:"name"`
	}
	if _, err := c.do(ctx, &call{method: http.MethodGet, path: "/user", subject: "the token's account", scope: scopes("user_info")}, &u); err != nil {
		return nil, err
	}
	if u.Login == "" {
		return nil, failure.New(failure.Internal, "GET /user: Gitee returned no login for the token")
	}
	c.mu.Lock()
	c.login, c.known = u.Login, true
	c.mu.Unlock()
	return &User{ID: u.ID, Login: u.Login, Name: u.Name}, nil
}

// Login returns the token's login, asking Gitee once and caching the answer.
func (c *Client) Login(ctx context.Context) (string, error) {
	c.mu.Lock()
	login, known := c.login, c.known
	c.mu.Unlock()
	if known {
		return login, nil
	}
	u, err := c.User(ctx)
	if err != nil {
		return "", err
	}
	return u.Login, nil
}
