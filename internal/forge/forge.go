// Package forge is the one interface the rest of the code sees for a hosting
// site (GitHub, Gitee): repositories and where their Git data lives.
// internal/gitee and internal/githubapp implement it.
package forge

import "context"

// AccountKind says what owns repositories.
type AccountKind string

// Account kinds. Empty means "find out".
const (
	User       AccountKind = "user"
	Org        AccountKind = "org"
	Enterprise AccountKind = "enterprise" // Gitee only
)

// Visibility of a repository to create.
type Visibility string

// Visibilities.
const (
	Private  Visibility = "private"
	Public   Visibility = "public"
	Internal Visibility = "internal" // Gitee organisations and enterprises
)

// Repo is a repository as both sites describe it.
type Repo struct {
	Owner         string
	Name          string // the path segment in URLs
	Description   string
	Homepage      string
	DefaultBranch string
	Private       bool
	Fork          bool
	Archived      bool
	// Empty is true when the site says the repository has no commits; when
	// the site cannot tell, false (the sync core finds out for itself).
	Empty bool
	// CloneURL is the HTTPS Git URL, without credentials.
	CloneURL string
}

// FullName is "owner/name".
func (r *Repo) FullName() string { return r.Owner + "/" + r.Name }

// CreateOptions describe a repository to create.
type CreateOptions struct {
	Owner       string
	OwnerKind   AccountKind // User creates under the token's own account
	Name        string
	Description string
	Homepage    string
	Visibility  Visibility
}

// RepoUpdate changes repository settings; empty fields are left alone.
type RepoUpdate struct {
	DefaultBranch string
	Description   string
	Homepage      string
}

// Credentials authenticate Git over HTTPS (basic auth). Never log them.
type Credentials struct {
	Username string
	Token    string
}

// Forge is a hosting site. Every error is a *failure.Error naming what is
// wrong and what to do.
type Forge interface {
	// Name is "github" or "gitee".
	Name() string
	// GetRepo returns one repository; failure.NotFound when absent.
	GetRepo(ctx context.Context, owner, name string) (*Repo, error)
	// ListRepos lists every repository of an account, following pagination.
	// kind "" detects whether owner is a user or an organisation.
	ListRepos(ctx context.Context, owner string, kind AccountKind) ([]*Repo, error)
	// CreateRepo creates an empty repository (no README, no initial commit).
	CreateRepo(ctx context.Context, opts CreateOptions) (*Repo, error)
	// UpdateRepo changes settings of an existing repository.
	UpdateRepo(ctx context.Context, owner, name string, u RepoUpdate) error
	// GitURL is the HTTPS Git URL of a repository, without credentials.
	GitURL(owner, name string) string
	// GitCredentials are what Git over HTTPS needs for this site's token.
	GitCredentials() Credentials
}
