package githubapp

import (
	"context"
	"strconv"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
)

// What the App's callers find on a Client through forge's capability
// interfaces.
var (
	_ forge.Forge      = (*Client)(nil)
	_ forge.Checks     = (*Client)(nil)
	_ forge.Contents   = (*Client)(nil)
	_ forge.Commits    = (*Client)(nil)
	_ forge.Account    = (*Client)(nil)
	_ forge.RepoTokens = (*Client)(nil)
)

// RepoToken implements forge.RepoTokens for a Client made by
// AppTransport.InstallationClient: an installation token for repo alone
// with scope's permissions (the zero scope asks for AppOptions.
// TokenPermissions). Contents write also asks for workflows write when
// the App was configured with it, so that pushes may touch workflows.
func (c *Client) RepoToken(ctx context.Context, repo forge.RepoRef, scope forge.TokenScope) (string, time.Time, error) {
	if c.app == nil {
		return "", time.Time{}, failure.New(failure.Internal, "mint a GitHub token for %s: this client is not an installation's", repo.FullName())
	}
	perms := c.app.perms
	if scope != (forge.TokenScope{}) {
		perms = permissions(scope, c.app.perms)
	}
	if repo.ID > 0 {
		return c.app.mintScoped(ctx, c.installation, repoWhat(repo), &github.InstallationTokenOptions{RepositoryIDs: []int64{repo.ID}}, perms)
	}
	if !segment(repo.Name) {
		return "", time.Time{}, failure.New(failure.Invalid, "mint a GitHub token: %q is not a repository name", repo.FullName())
	}
	return c.app.mintScoped(ctx, c.installation, repoWhat(repo), &github.InstallationTokenOptions{Repositories: []string{repo.Name}}, perms)
}

func repoWhat(repo forge.RepoRef) string {
	if repo.Owner != "" {
		return "repository " + repo.FullName()
	}
	return "repository id " + itoa(repo.ID)
}

// permissions turns a scope into GitHub's permissions. Workflows write
// follows the App's configuration for a push, since the App may lack it.
func permissions(s forge.TokenScope, app github.InstallationPermissions) github.InstallationPermissions {
	var p github.InstallationPermissions
	if s.Contents != forge.NoAccess {
		p.Contents = github.String(string(s.Contents))
	}
	if s.Checks != forge.NoAccess {
		p.Checks = github.String(string(s.Checks))
	}
	switch {
	case s.Workflows != forge.NoAccess:
		p.Workflows = github.String(string(s.Workflows))
	case s.Contents == forge.Write && app.Workflows != nil:
		p.Workflows = app.Workflows
	}
	return p
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
