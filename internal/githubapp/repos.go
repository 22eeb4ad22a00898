package githubapp

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v62/github"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
)

// GetRepo returns one repository; failure.NotFound when GitHub does not show
// it to the token. A renamed repository is followed to its new name.
func (c *Client) GetRepo(ctx context.Context, owner, name string) (*forge.Repo, error) {
	if err := checkNames(owner, name); err != nil {
		return nil, err
	}
	o := op{what: fmt.Sprintf("get GitHub repository %s/%s", owner, name)}
	var r *github.Repository
	err := c.retry.do(ctx, true, func() (resp *github.Response, err error) {
		r, resp, err = c.gh.Repositories.Get(ctx, owner, name)
		return resp, err
	})
	if err != nil {
		return nil, c.fail(err, o)
	}
	return c.toRepo(r), nil
}

// CreateRepo creates an empty repository (auto_init false: no README, no
// commit). An empty Visibility means private. Under an organisation it needs
// "administration: write" (GitHub App) or the repo scope (classic token).
// Under a personal account only a token of that person can create it: an
// installation token cannot, and the error says so.
func (c *Client) CreateRepo(ctx context.Context, opts forge.CreateOptions) (*forge.Repo, error) {
	if err := checkNames(opts.Owner, opts.Name); err != nil {
		return nil, err
	}
	full := opts.Owner + "/" + opts.Name
	req := &github.Repository{Name: github.String(opts.Name), AutoInit: github.Bool(false)}
	if opts.Description != "" {
		req.Description = github.String(opts.Description)
	}
	if opts.Homepage != "" {
		req.Homepage = github.String(opts.Homepage)
	}
	switch opts.Visibility {
	case "", forge.Private:
		req.Private = github.Bool(true)
	case forge.Public:
		req.Private = github.Bool(false)
	case forge.Internal:
		req.Visibility = github.String("internal")
	default:
		return nil, failure.New(failure.Invalid, "create GitHub repository %s: unknown visibility %q (want private, public or internal)", full, opts.Visibility)
	}

	kind := opts.OwnerKind
	if kind == "" {
		k, err := c.AccountKind(ctx, opts.Owner)
		if err != nil {
			return nil, err
		}
		kind = k
	}
	o := op{what: "create GitHub repository " + full,
		invalid: "a repository named " + full + " may already exist, or the name is not allowed"}
	org := ""
	switch kind {
	case forge.Org:
		org = opts.Owner
		o.forbidden = fmt.Sprintf("creating repositories in organisation %s needs 'administration: write' "+
			"(GitHub App installed on the organisation; fine-grained token: Administration read and write), "+
			"or the repo scope for a classic token; the organisation may also allow only owners to create repositories", opts.Owner)
		o.notFound = fmt.Sprintf("organisation %s does not exist, or the token cannot see it", opts.Owner)
	case forge.User:
		self, err := c.selfLogin(ctx)
		if err != nil {
			return nil, err
		}
		if self == "" {
			return nil, failure.New(failure.Permission, "create GitHub repository %s: %s", full, personalHint(full))
		}
		if !strings.EqualFold(self, opts.Owner) {
			return nil, failure.New(failure.Permission,
				"create GitHub repository %s: the token belongs to %s, and a repository under %s's personal account can only be created by %s: create %s on GitHub first, or use a token of %s",
				full, self, opts.Owner, opts.Owner, full, opts.Owner)
		}
		o.forbidden = personalHint(full) + "; a personal access token needs the repo scope (fine-grained: Administration read and write)"
		o.notFound = o.forbidden
	default:
		return nil, failure.New(failure.Invalid, "create GitHub repository %s: GitHub has users and organisations, not %q", full, kind)
	}

	var r *github.Repository
	err := c.retry.do(ctx, false, func() (resp *github.Response, err error) {
		r, resp, err = c.gh.Repositories.Create(ctx, org, req)
		return resp, err
	})
	if err != nil {
		fe := toFailure(err, o, c.secrets)
		if s := statusOf(err); kind == forge.User && (s == http.StatusForbidden || s == http.StatusNotFound) {
			// A token that may not create personal repositories gets
			// 403 or 404: either way it is a missing permission.
			fe.Class = failure.Permission
		}
		return nil, fe
	}
	repo := c.toRepo(r)
	repo.Empty = true // created with auto_init false: no commit yet
	return repo, nil
}

// personalHint explains what to do about a repository under a personal
// account that cannot be created.
func personalHint(full string) string {
	return "a GitHub App installation token cannot create a repository under a personal account: " +
		"create " + full + " on GitHub first, or mirror into an organisation"
}

// UpdateRepo sets the default branch, description and homepage; empty
// fields are left alone and nothing is sent when all are empty. It needs
// admin rights on the repository ("administration: write" for an App). The
// request is idempotent and retried like a GET.
func (c *Client) UpdateRepo(ctx context.Context, owner, name string, u forge.RepoUpdate) error {
	if err := checkNames(owner, name); err != nil {
		return err
	}
	req := &github.Repository{}
	if u.DefaultBranch != "" {
		req.DefaultBranch = github.String(u.DefaultBranch)
	}
	if u.Description != "" {
		req.Description = github.String(u.Description)
	}
	if u.Homepage != "" {
		req.Homepage = github.String(u.Homepage)
	}
	if req.DefaultBranch == nil && req.Description == nil && req.Homepage == nil {
		return nil
	}
	o := op{what: fmt.Sprintf("update GitHub repository %s/%s", owner, name),
		forbidden: "changing repository settings needs admin rights on it (GitHub App: 'administration: write')",
		invalid:   "a new default branch must exist on GitHub first: push it, then set it"}
	err := c.retry.do(ctx, true, func() (resp *github.Response, err error) {
		_, resp, err = c.gh.Repositories.Edit(ctx, owner, name, req)
		return resp, err
	})
	return c.fail(err, o)
}

// toRepo maps GitHub's repository. Empty stays false: GitHub's size == 0 is
// only a hint (size is computed lazily, so a freshly pushed repository can
// report 0), and the sync core finds out from the refs.
func (c *Client) toRepo(r *github.Repository) *forge.Repo {
	owner, name := r.GetOwner().GetLogin(), r.GetName()
	return &forge.Repo{
		Owner:         owner,
		Name:          name,
		Description:   r.GetDescription(),
		Homepage:      r.GetHomepage(),
		DefaultBranch: r.GetDefaultBranch(),
		Private:       r.GetPrivate(),
		Fork:          r.GetFork(),
		Archived:      r.GetArchived(),
		CloneURL:      c.GitURL(owner, name),
	}
}

// checkNames refuses empty or path-like owner and repository names before
// they reach a URL.
func checkNames(owner, name string) error {
	if !segment(owner) || !segment(name) {
		return failure.New(failure.Invalid, "GitHub repository %q/%q: owner and name must be non-empty single path segments", owner, name)
	}
	return nil
}

// segment reports whether s can stand as one URL path segment.
func segment(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/\\?#% \t\r\n")
}
