package actioncmd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// demoUsage is the help of `gitee-mirror demo`.
const demoUsage = `Usage: gitee-mirror demo [--keep]

Mirrors a small repository end to end on this machine, with the real sync
core and no account, token or git binary: it builds a repository with two
branches and a tag, serves it and an empty mirror over Git's smart HTTP on
loopback in this process, mirrors it, adds a commit and deletes a branch,
mirrors again, and mirrors a third time to show that nothing is left to do.
--keep leaves both repositories in place (their paths are printed).
`

// demo runs the try-out described in demoUsage.
func (a *App) demo(ctx context.Context, c *console, args []string) error {
	keep := false
	for _, arg := range args {
		switch arg {
		case "--keep", "-keep":
			keep = true
		case "-h", "--help", "-help":
			fmt.Fprint(c.stdout, demoUsage)
			return nil
		default:
			return &inputError{msg: fmt.Sprintf("demo: unexpected argument %q; the demo takes only --keep", arg)}
		}
	}
	dir, err := os.MkdirTemp("", "gitee-mirror-demo-")
	if err != nil {
		return fmt.Errorf("making the demo's directory: %w", err)
	}
	if !keep {
		defer os.RemoveAll(dir)
	}
	src, dst := filepath.Join(dir, "source"), filepath.Join(dir, "mirror.git")
	repo, err := demoSource(src)
	if err != nil {
		return fmt.Errorf("building the demo repository: %w", err)
	}
	run := func(step string) error {
		c.printf("\n== %s", step)
		sub := *a
		sub.Args = []string{"--source=" + src, "--destination=" + dst}
		sub.Getwd = func() (string, error) { return dir, nil } // the report goes there, not into the current directory
		return sub.mirror(ctx, c, secrets{})
	}
	c.printf("Demo: %s (branches main and feature, tag v1.0) is mirrored to the new bare repository %s.", src, dst)
	if err := run("1. first mirror: every branch and tag is created"); err != nil {
		return err
	}
	if err := demoChange(src, repo); err != nil {
		return fmt.Errorf("changing the demo repository: %w", err)
	}
	if err := run("2. feature landed on main and was deleted: main fast-forwards, feature is pruned"); err != nil {
		return err
	}
	if err := run("3. again: already in sync, no objects move"); err != nil {
		return err
	}
	if keep {
		c.printf("\nThe repositories and reports stay in %s.", dir)
	} else {
		c.printf("\n%s is removed now; run the demo with --keep to look at the repositories and reports.", dir)
	}
	c.printf("\nNext: mirror your own repository the same way (gitee-mirror --source ./my-repo --destination /tmp/my-mirror.git),\nor to Gitee: DESTINATION_TOKEN=… gitee-mirror --source github/OWNER/REPO --destination gitee/OWNER/REPO")
	return nil
}

var demoSig = object.Signature{Name: "gitee-mirror demo", Email: "demo@example.invalid", When: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}

// demoSource builds the demo's source: three commits on main, a feature
// branch one commit further, an annotated tag v1.0, with go-git only.
func demoSource(dir string) (*git.Repository, error) {
	r, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{InitOptions: git.InitOptions{DefaultBranch: plumbing.Main}})
	if err != nil {
		return nil, err
	}
	for i, text := range []string{"# demo\n", "# demo\n\nA repository to mirror.\n", "# demo\n\nA repository to mirror, twice.\n"} {
		if _, err := demoCommit(r, dir, "README.md", text, fmt.Sprintf("README, take %d", i+1)); err != nil {
			return nil, err
		}
	}
	head, err := r.Head()
	if err != nil {
		return nil, err
	}
	if _, err := r.CreateTag("v1.0", head.Hash(), &git.CreateTagOptions{Message: "first release", Tagger: &demoSig}); err != nil {
		return nil, err
	}
	wt, err := r.Worktree()
	if err != nil {
		return nil, err
	}
	if err := wt.Checkout(&git.CheckoutOptions{Branch: "refs/heads/feature", Create: true}); err != nil {
		return nil, err
	}
	if _, err := demoCommit(r, dir, "feature.txt", "work in progress\n", "feature work"); err != nil {
		return nil, err
	}
	return r, wt.Checkout(&git.CheckoutOptions{Branch: plumbing.Main})
}

// demoChange lands feature on main with one more commit (a fast-forward)
// and deletes feature: its commits are on main now, so prune may delete it
// on the mirror without losing anything.
func demoChange(dir string, r *git.Repository) error {
	wt, err := r.Worktree()
	if err != nil {
		return err
	}
	if err := wt.Checkout(&git.CheckoutOptions{Branch: "refs/heads/feature"}); err != nil {
		return err
	}
	h, err := demoCommit(r, dir, "CHANGELOG.md", "v1.1: the feature\n", "changelog")
	if err != nil {
		return err
	}
	if err := r.Storer.SetReference(plumbing.NewHashReference(plumbing.Main, h)); err != nil {
		return err
	}
	if err := wt.Checkout(&git.CheckoutOptions{Branch: plumbing.Main}); err != nil {
		return err
	}
	return r.Storer.RemoveReference("refs/heads/feature")
}

func demoCommit(r *git.Repository, dir, name, content, msg string) (plumbing.Hash, error) {
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		return plumbing.ZeroHash, err
	}
	wt, err := r.Worktree()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := wt.Add(name); err != nil {
		return plumbing.ZeroHash, err
	}
	sig := demoSig
	return wt.Commit(msg, &git.CommitOptions{Author: &sig, Committer: &sig})
}
