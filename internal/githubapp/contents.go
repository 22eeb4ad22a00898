package githubapp

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v62/github"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
)

// RepoFile reads one file of a repository at ref (a branch, tag or commit;
// "" for the default branch) through the contents API, and returns its bytes
// and blob sha. A missing file, ref or repository is failure.NotFound; a
// directory, or a file too large for the contents API (over 1 MB), is
// failure.Invalid.
func (c *Client) RepoFile(ctx context.Context, owner, name, path, ref string) (content []byte, sha string, err error) {
	if err := checkNames(owner, name); err != nil {
		return nil, "", err
	}
	where := fmt.Sprintf("%s in GitHub repository %s/%s", path, owner, name)
	if ref != "" {
		where += " at " + ref
	}
	if path == "" || strings.HasPrefix(path, "/") || strings.Contains(path, "..") {
		return nil, "", failure.New(failure.Invalid, "read %s: the path must be relative to the repository root, without ..", where)
	}
	o := op{what: "read " + where,
		forbidden: "reading files needs 'contents: read' (GitHub App) or access to the repository",
		notFound:  "the file, the branch or the repository does not exist, or the token cannot see it"}
	var file *github.RepositoryContent
	var dir []*github.RepositoryContent
	err = c.retry.do(ctx, true, func() (resp *github.Response, err error) {
		file, dir, resp, err = c.gh.Repositories.GetContents(ctx, owner, name, path, &github.RepositoryContentGetOptions{Ref: ref})
		return resp, err
	})
	if err != nil {
		return nil, "", c.fail(err, o)
	}
	if file == nil || dir != nil {
		return nil, "", failure.New(failure.Invalid, "read %s: it is a directory, not a file", where)
	}
	if file.GetType() != "" && file.GetType() != "file" {
		return nil, "", failure.New(failure.Invalid, "read %s: it is a %s, not a file", where, file.GetType())
	}
	if file.GetEncoding() == "none" {
		return nil, "", failure.New(failure.Invalid, "read %s: the file is too large for GitHub's contents API (over 1 MB)", where)
	}
	text, err := file.GetContent()
	if err != nil {
		return nil, "", failure.Wrap(failure.Internal, err, "read %s: GitHub sent content that cannot be decoded", where)
	}
	return []byte(text), file.GetSHA(), nil
}

// CommitSHA implements forge.Commits: the commit a branch, tag or commit id
// names (GET /repos/{owner}/{repo}/commits/{ref} as a bare sha). It needs
// contents read, as RepoFile does.
func (c *Client) CommitSHA(ctx context.Context, owner, name, ref string) (string, error) {
	if err := checkNames(owner, name); err != nil {
		return "", err
	}
	if ref == "" || strings.HasPrefix(ref, "-") {
		return "", failure.New(failure.Invalid, "resolve a commit in GitHub repository %s/%s: no branch or tag given", owner, name)
	}
	o := op{what: fmt.Sprintf("resolve %s in GitHub repository %s/%s", ref, owner, name),
		forbidden: "reading commits needs 'contents: read' (GitHub App) or access to the repository",
		notFound:  "the branch or the repository does not exist, or the token cannot see it",
		invalid:   "no commit has that name"}
	var sha string
	err := c.retry.do(ctx, true, func() (resp *github.Response, err error) {
		sha, resp, err = c.gh.Repositories.GetCommitSHA1(ctx, owner, name, ref, "")
		return resp, err
	})
	if err != nil {
		return "", c.fail(err, o)
	}
	return strings.TrimSpace(sha), nil
}
