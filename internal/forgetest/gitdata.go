package forgetest

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// headBranch is the branch HEAD of a bare repository points at, read from
// its HEAD file ("" when HEAD is detached or unreadable).
func headBranch(gitDir string) string {
	b, err := os.ReadFile(filepath.Join(gitDir, "HEAD"))
	if err != nil {
		return ""
	}
	ref, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "ref: refs/heads/")
	if !ok {
		return ""
	}
	return ref
}

// listBranches lists a bare repository's branch names, loose and packed,
// sorted, without running git.
func listBranches(gitDir string) []string {
	seen := map[string]bool{}
	heads := filepath.Join(gitDir, "refs", "heads")
	filepath.WalkDir(heads, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(path, ".lock") {
			if rel, err := filepath.Rel(heads, path); err == nil {
				seen[filepath.ToSlash(rel)] = true
			}
		}
		return nil
	})
	if file, err := os.Open(filepath.Join(gitDir, "packed-refs")); err == nil {
		sc := bufio.NewScanner(file)
		for sc.Scan() {
			_, ref, ok := strings.Cut(sc.Text(), " ")
			if name, isHead := strings.CutPrefix(ref, "refs/heads/"); ok && isHead {
				seen[name] = true
			}
		}
		file.Close()
	}
	out := make([]string, 0, len(seen))
	for b := range seen {
		out = append(out, b)
	}
	slices.Sort(out)
	return out
}

func hasBranch(branches []string, b string) bool {
	_, found := slices.BinarySearch(branches, b)
	return found
}

// pickDefault chooses a default branch among existing ones: main, then
// master, then the first by name.
func pickDefault(branches []string) string {
	for _, b := range []string{"main", "master"} {
		if hasBranch(branches, b) {
			return b
		}
	}
	return branches[0]
}

// setHead points owner/name's HEAD at refs/heads/<branch>, as git
// symbolic-ref does (a lock file renamed over HEAD), without a git process:
// the forge stands in for a remote site, and a benchmark should not pay
// two process starts per default-branch change. Callers pass a branch that
// exists (git made its name) or one checkRefName accepted.
func (f *Forge) setHead(owner, name, branch string) error {
	ref := "refs/heads/" + branch
	head := filepath.Join(f.RepoPath(owner, name), "HEAD")
	lock := head + ".lock"
	lf, err := os.OpenFile(lock, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("locking HEAD: %w", err)
	}
	_, err = lf.WriteString("ref: " + ref + "\n")
	if cerr := lf.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(lock, head)
	}
	if err != nil {
		os.Remove(lock)
		return fmt.Errorf("writing HEAD: %w", err)
	}
	return nil
}

// archivedMessage is what GitHub answers a push to an archived repository.
const archivedMessage = "This repository was archived so it is read-only."

// setArchived installs or removes a pre-receive hook refusing every push
// with GitHub's message for archived repositories.
func (f *Forge) setArchived(owner, name string, archived bool) error {
	hook := filepath.Join(f.RepoPath(owner, name), "hooks", "pre-receive")
	if !archived {
		if err := os.Remove(hook); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	script := "#!/bin/sh\n# Installed by forgetest: the repository is archived.\n" +
		"echo 'ERROR: " + archivedMessage + "' >&2\nexit 1\n"
	if err := os.MkdirAll(filepath.Dir(hook), 0o700); err != nil {
		return err
	}
	return os.WriteFile(hook, []byte(script), 0o700)
}

// dirSize is the total size of the files under dir.
func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// initCommit describes the first commit a site makes for auto_init.
type initCommit struct {
	branch    string
	files     map[string]string // top-level file name → content
	message   string
	author    string // "Name <email>"
	committer string
}

// autoInit writes c into the bare repository owner/name with plumbing
// commands and points refs/heads/<branch> at it.
func (f *Forge) autoInit(owner, name string, c initCommit) error {
	dir := f.RepoPath(owner, name)
	var tree strings.Builder
	names := make([]string, 0, len(c.files))
	for n := range c.files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		oid, err := gitStdin(f.home, dir, c.files[n], nil, "hash-object", "-w", "--stdin")
		if err != nil {
			return err
		}
		fmt.Fprintf(&tree, "100644 blob %s\t%s\n", oid, n)
	}
	treeID, err := gitStdin(f.home, dir, tree.String(), nil, "mktree")
	if err != nil {
		return err
	}
	an, ae := splitIdent(c.author)
	cn, ce := splitIdent(c.committer)
	env := []string{"GIT_AUTHOR_NAME=" + an, "GIT_AUTHOR_EMAIL=" + ae,
		"GIT_COMMITTER_NAME=" + cn, "GIT_COMMITTER_EMAIL=" + ce}
	commit, err := gitStdin(f.home, dir, c.message+"\n", env, "commit-tree", treeID)
	if err != nil {
		return err
	}
	_, err = runGit(f.home, dir, "update-ref", "refs/heads/"+c.branch, commit, strings.Repeat("0", 40))
	return err
}

// splitIdent splits "Name <email>".
func splitIdent(s string) (name, email string) {
	name, email, _ = strings.Cut(s, " <")
	return name, strings.TrimSuffix(email, ">")
}

// gitStdin runs git in dir with stdin and extra environment, and returns its
// trimmed standard output.
func gitStdin(home, dir, stdin string, env []string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(gitEnv(home), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// checkBranchName asks git itself whether branch is a valid branch name.
// The forge does not share the client's ref-name check: a bug there must
// show up as a difference here, not be repeated.
func (f *Forge) checkBranchName(branch string) error {
	if _, err := runGit(f.home, "", "check-ref-format", "--branch", branch); err != nil || strings.HasPrefix(branch, "-") {
		return fmt.Errorf("bad branch name %q", branch)
	}
	return nil
}
