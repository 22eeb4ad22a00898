// Package forges builds the App's concrete sites behind the forge
// interfaces: GitHub through the App's installations (package githubapp),
// Gitee through people's tokens (package gitee). The App's main wires it
// in; every other package is handed a forge.Opener or forge.Installations
// and never names a site's package.
package forges

import (
	"fmt"
	"net/http"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/gitee"
	"github.com/gitee-mirror/gitee-mirror/internal/githubapp"
)

// Config says where the sites are.
type Config struct {
	// GitHubAPIURL and GitHubGitURL: github.com's when empty; for GitHub
	// Enterprise Server, https://HOST/api/v3/ and https://HOST.
	GitHubAPIURL, GitHubGitURL string
	// GiteeAPIURL and GiteeGitURL: gitee.com's when empty.
	GiteeAPIURL, GiteeGitURL string
	// HTTPClient reaches Gitee's API; nil: the Gitee client's own.
	HTTPClient *http.Client
	// GiteeAttempts bounds the tries of one Gitee request (pages answer
	// people, so they try less); 0: the client's default.
	GiteeAttempts int
	// App returns the GitHub App's transport, or an error saying what to
	// configure while it has none; nil: no installations.
	App func() (*githubapp.AppTransport, error)
}

// Sites implements forge.Opener and forge.Installations.
type Sites struct{ cfg Config }

var (
	_ forge.Opener        = (*Sites)(nil)
	_ forge.Installations = (*Sites)(nil)
)

// New returns the sites of cfg.
func New(cfg Config) *Sites { return &Sites{cfg: cfg} }

// Open implements forge.Opener.
func (s *Sites) Open(site forge.Site, c forge.Credentials) (forge.Forge, error) {
	switch site {
	case forge.Gitee:
		return gitee.New(gitee.Config{BaseURL: s.cfg.GiteeAPIURL, GitBaseURL: s.cfg.GiteeGitURL, Token: c.Token,
			Username: c.Username, HTTPClient: s.cfg.HTTPClient, Retry: gitee.RetryPolicy{MaxAttempts: s.cfg.GiteeAttempts}})
	case forge.GitHub:
		return githubapp.NewWithToken(c.Token, githubapp.Options{APIURL: s.cfg.GitHubAPIURL, GitURL: s.cfg.GitHubGitURL})
	}
	return nil, failure.New(failure.Invalid, "unknown site %q: want %s or %s", site, forge.GitHub, forge.Gitee)
}

// Installation implements forge.Installations.
func (s *Sites) Installation(installationID int64) (forge.Forge, error) {
	if s.cfg.App == nil {
		return nil, failure.New(failure.Invalid, "the GitHub App is not configured")
	}
	app, err := s.cfg.App()
	if err != nil {
		return nil, err
	}
	c, err := app.InstallationClient(installationID, githubapp.Options{APIURL: s.cfg.GitHubAPIURL, GitURL: s.cfg.GitHubGitURL})
	if err != nil {
		return nil, fmt.Errorf("error creating the client of installation %d: %w", installationID, err)
	}
	return c, nil
}

// Deliveries reads Gitee webhook deliveries.
func Deliveries() forge.Deliveries { return gitee.Deliveries{} }
