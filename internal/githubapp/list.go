package githubapp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v62/github"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
)

// ListRepos lists every repository of a user or organisation, following
// pagination. kind "" asks GitHub (GET /users/{owner}). An organisation
// lists all repositories the token can see. A user lists private ones too
// when the token is that user's own (GET /user); otherwise, as for an
// installation token, only public ones: an App lists what its installation
// sees with ListInstallationRepos.
func (c *Client) ListRepos(ctx context.Context, owner string, kind forge.AccountKind) ([]*forge.Repo, error) {
	if !segment(owner) {
		return nil, failure.New(failure.Invalid, "list GitHub repositories: %q is not an account name", owner)
	}
	if kind == "" {
		k, err := c.AccountKind(ctx, owner)
		if err != nil {
			return nil, err
		}
		kind = k
	}
	o := op{what: "list GitHub repositories of " + owner}
	switch kind {
	case forge.Org:
		o.notFound = fmt.Sprintf("organisation %s does not exist, or the token cannot see it", owner)
		return c.paginate(ctx, o, func(lo github.ListOptions) ([]*github.Repository, *github.Response, error) {
			return c.gh.Repositories.ListByOrg(ctx, owner, &github.RepositoryListByOrgOptions{Type: "all", ListOptions: lo})
		})
	case forge.User:
		self, err := c.selfLogin(ctx)
		if err != nil {
			return nil, err
		}
		o.notFound = fmt.Sprintf("user %s does not exist", owner)
		if strings.EqualFold(self, owner) {
			return c.paginate(ctx, o, func(lo github.ListOptions) ([]*github.Repository, *github.Response, error) {
				return c.gh.Repositories.ListByAuthenticatedUser(ctx, &github.RepositoryListByAuthenticatedUserOptions{
					Affiliation: "owner", Visibility: "all", ListOptions: lo})
			})
		}
		return c.paginate(ctx, o, func(lo github.ListOptions) ([]*github.Repository, *github.Response, error) {
			return c.gh.Repositories.ListByUser(ctx, owner, &github.RepositoryListByUserOptions{Type: "owner", ListOptions: lo})
		})
	}
	return nil, failure.New(failure.Invalid, "list GitHub repositories of %s: GitHub has users and organisations, not %q", owner, kind)
}

// ListInstallationRepos lists every repository the installation token can
// see (GET /installation/repositories): the way for a GitHub App to list,
// private repositories of personal accounts included.
func (c *Client) ListInstallationRepos(ctx context.Context) ([]*forge.Repo, error) {
	o := op{what: "list the GitHub App installation's repositories",
		forbidden: "this needs a GitHub App installation token",
		notFound:  "this needs a GitHub App installation token"}
	return c.paginate(ctx, o, func(lo github.ListOptions) ([]*github.Repository, *github.Response, error) {
		lr, resp, err := c.gh.Apps.ListRepos(ctx, &lo)
		if lr == nil {
			return nil, resp, err
		}
		return lr.Repositories, resp, err
	})
}

// AccountKind says whether owner is a user or an organisation
// (GET /users/{owner}).
func (c *Client) AccountKind(ctx context.Context, owner string) (forge.AccountKind, error) {
	if !segment(owner) {
		return "", failure.New(failure.Invalid, "look up GitHub account: %q is not an account name", owner)
	}
	var u *github.User
	err := c.retry.do(ctx, true, func() (resp *github.Response, err error) {
		u, resp, err = c.gh.Users.Get(ctx, owner)
		return resp, err
	})
	if err != nil {
		return "", c.fail(err, op{what: "look up GitHub account " + owner,
			notFound: fmt.Sprintf("no user or organisation is called %s", owner)})
	}
	if u.GetType() == "Organization" {
		return forge.Org, nil
	}
	return forge.User, nil
}

// Login returns the login of the token's user (GET /user). An installation
// token has no user: failure.Permission.
func (c *Client) Login(ctx context.Context) (string, error) {
	self, err := c.selfLogin(ctx)
	if err == nil && self == "" {
		err = failure.New(failure.Permission, "this GitHub token has no user (it is an installation token, such as an Action's GITHUB_TOKEN)")
	}
	return self, err
}

// selfLogin returns the token's user, or "" when GitHub refuses GET /user to
// this token (403/404: installation tokens). The answer is cached; other
// failures are returned and not cached.
func (c *Client) selfLogin(ctx context.Context) (string, error) {
	c.mu.Lock()
	known, self := c.selfKnown, c.self
	c.mu.Unlock()
	if known {
		return self, nil
	}
	var u *github.User
	err := c.retry.do(ctx, true, func() (resp *github.Response, err error) {
		u, resp, err = c.gh.Users.Get(ctx, "")
		return resp, err
	})
	switch status := statusOf(err); {
	case err == nil:
		self = u.GetLogin()
	case status == http.StatusForbidden || status == http.StatusNotFound:
		self = ""
	default:
		return "", c.fail(err, op{what: "find the token's GitHub user"})
	}
	c.mu.Lock()
	c.selfKnown, c.self = true, self
	c.mu.Unlock()
	return self, nil
}

// statusOf is the HTTP status of a plain GitHub error response, or 0
// (rate-limit errors included: they are not an answer about the token).
func statusOf(err error) int {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	return 0
}

// paginate calls page for every page (100 per page), retrying each one.
func (c *Client) paginate(ctx context.Context, o op, page func(github.ListOptions) ([]*github.Repository, *github.Response, error)) ([]*forge.Repo, error) {
	lo := github.ListOptions{PerPage: perPage}
	var out []*forge.Repo
	for {
		var (
			repos []*github.Repository
			last  *github.Response
		)
		err := c.retry.do(ctx, true, func() (resp *github.Response, err error) {
			repos, resp, err = page(lo)
			last = resp
			return resp, err
		})
		if err != nil {
			return nil, c.fail(err, o)
		}
		for _, r := range repos {
			out = append(out, c.toRepo(r))
		}
		if last == nil || last.NextPage == 0 {
			return out, nil
		}
		if last.NextPage <= max(lo.Page, 1) {
			return nil, failure.New(failure.Internal, "%s: GitHub's next page (%d) does not follow page %d", o.what, last.NextPage, max(lo.Page, 1))
		}
		lo.Page = last.NextPage
	}
}
