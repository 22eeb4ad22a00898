package store

import (
	"context"
	"time"
)

// ConfigProblem is a repository whose .github/gitee-mirror.yml does not
// parse: the mirrors keep their last valid settings, and the problems are
// shown on the repository's pages (and on the check run of the commit)
// until a valid file is read.
type ConfigProblem struct {
	InstallationID int64
	GitHubRepoID   int64
	Repo           string // "owner/name" on GitHub, for people
	CommitSHA      string // the commit whose file was read
	Errors         []ConfigError
	UpdatedAt      time.Time
}

// ConfigError is one problem in the file: where, and what to write instead.
type ConfigError struct {
	Line    int    `json:"line,omitempty"` // 1-based; 0 for the whole file
	Key     string `json:"key,omitempty"`  // e.g. "direction" or "mirrors[1].tags"
	Message string `json:"message"`        // what is wrong and what is allowed
}

// ConfigProblems keeps the problems of repositories' settings files, one
// row per repository, in the database so that every replica shows them.
type ConfigProblems interface {
	// SetConfigProblem records (or replaces) a repository's problems.
	SetConfigProblem(ctx context.Context, p *ConfigProblem) error
	// ClearConfigProblem forgets them: a valid file (or none) was read.
	// Clearing a repository without problems is not an error.
	ClearConfigProblem(ctx context.Context, githubRepoID int64) error
	// ConfigProblem returns a repository's problems; ErrNotFound when its
	// file is valid (or was never read).
	ConfigProblem(ctx context.Context, githubRepoID int64) (*ConfigProblem, error)
	// ListConfigProblems returns the problems of an installation's
	// repositories, by repository id (every installation's with 0).
	ListConfigProblems(ctx context.Context, installationID int64) ([]*ConfigProblem, error)
}
