package lfs

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
)

// mediaType is the Git LFS API's JSON media type, sent as Accept and
// Content-Type of batch and verify requests.
const mediaType = "application/vnd.git-lfs+json"

// Remote is one side's Git repository, as the sync core knows it: the LFS
// server is found from the Git URL the way git-lfs finds it, and takes the
// same credentials as Git.
type Remote struct {
	// Side names the repository in messages: "source" or "target".
	Side string
	// GitURL is the repository's smart HTTP URL without credentials,
	// e.g. https://gitee.com/owner/repo.git.
	GitURL string
	// Username and Token are Git's basic-auth credentials. Token is never
	// logged nor put in a URL or an error.
	Username, Token string
}

// Client talks to one repository's LFS server.
type Client struct {
	side   string
	url    string // the LFS endpoint, ".../repo.git/info/lfs"
	origin *url.URL
	user   string
	token  string
	http   *http.Client
	agent  string
	redact func(string) string
}

// NewClient returns a client for r's LFS server. hc carries every request
// (batch and transfers); agent is sent as User-Agent; redact removes secrets
// from text bound for a person (nil: only r.Token is removed).
func NewClient(r Remote, hc *http.Client, agent string, redact func(string) string) (*Client, error) {
	u, err := url.Parse(r.GitURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil || u.RawQuery != "" {
		return nil, failure.New(failure.Invalid, "%s URL is not a credential-free http(s) Git URL", r.Side)
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	if redact == nil {
		redact = func(s string) string {
			if len(r.Token) >= 4 {
				s = strings.ReplaceAll(s, r.Token, "***")
			}
			return s
		}
	}
	user := r.Username
	if user == "" && r.Token != "" {
		user = "x-access-token"
	}
	return &Client{
		side: r.Side, url: endpointURL(u), origin: &url.URL{Scheme: u.Scheme, Host: u.Host},
		user: user, token: r.Token, http: hc, agent: agent, redact: redact,
	}, nil
}

// endpointURL is git-lfs's default LFS server for a Git URL: the URL with
// ".git" made sure of, then "/info/lfs".
func endpointURL(u *url.URL) string {
	s := strings.TrimRight(u.String(), "/")
	if !strings.HasSuffix(s, ".git") {
		s += ".git"
	}
	return s + "/info/lfs"
}

// URL is the LFS endpoint, for messages (it holds no credentials).
func (c *Client) URL() string { return c.url }

// sameOrigin reports whether u is on the LFS server's scheme, host and
// port: only there do Git's credentials go. Storage elsewhere (a CDN, an
// object store) is reached with the headers the server's action gives.
func (c *Client) sameOrigin(u *url.URL) bool {
	return u.Scheme == c.origin.Scheme && u.Host == c.origin.Host
}

// newRequest builds a request to href with the action's headers; Git's
// credentials are added for the LFS server's own origin unless the action
// brings its own Authorization.
func (c *Client) newRequest(ctx context.Context, method, href string, header map[string]string, body io.Reader) (*http.Request, error) {
	u, err := url.Parse(href)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, failure.New(failure.Internal, "the %s's LFS server gave an unusable link (not an http(s) URL)", c.side)
	}
	if u.Scheme == "http" && c.origin.Scheme == "https" {
		return nil, failure.New(failure.Internal, "the %s's LFS server gave a plain http:// link for an https repository; refused", c.side)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("error building LFS request: %w", err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if req.Header.Get("Authorization") == "" && c.token != "" && c.sameOrigin(u) {
		req.SetBasicAuth(c.user, c.token)
	}
	req.Header.Set("User-Agent", "git-lfs/3 ("+c.agent+")")
	return req, nil
}
