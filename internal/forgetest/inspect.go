package forgetest

import (
	"fmt"
	"strings"
)

// Refs returns every ref of owner/repo (HEAD excluded) with its object id.
func (f *Forge) Refs(owner, repo string) map[string]string {
	f.t.Helper()
	out, err := runGit(f.home, f.RepoPath(owner, repo), "for-each-ref", "--format=%(objectname) %(refname)")
	if err != nil {
		f.t.Fatalf("forgetest: refs of %s/%s: %v", owner, repo, err)
	}
	refs := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if oid, name, ok := strings.Cut(line, " "); ok {
			refs[name] = oid
		}
	}
	return refs
}

// Fsck checks owner/repo with git fsck --full --strict; the error carries
// git's report.
func (f *Forge) Fsck(owner, repo string) error {
	_, err := runGit(f.home, f.RepoPath(owner, repo), "fsck", "--full", "--strict", "--no-progress", "--no-dangling")
	if err != nil {
		return fmt.Errorf("fsck %s/%s: %w", owner, repo, err)
	}
	return nil
}

// SetRef points ref of owner/repo at oid, which must exist there, bypassing
// hooks and permissions. It reports failure with t.Errorf, so it may be
// called from an OnRequest callback.
func (f *Forge) SetRef(owner, repo, ref, oid string) {
	f.t.Helper()
	if _, err := runGit(f.home, f.RepoPath(owner, repo), "update-ref", ref, oid); err != nil {
		f.t.Errorf("forgetest: SetRef %s/%s %s: %v", owner, repo, ref, err)
	}
}

// DeleteRef deletes ref of owner/repo, bypassing hooks and permissions. Like
// SetRef it reports failure with t.Errorf.
func (f *Forge) DeleteRef(owner, repo, ref string) {
	f.t.Helper()
	if _, err := runGit(f.home, f.RepoPath(owner, repo), "update-ref", "-d", ref); err != nil {
		f.t.Errorf("forgetest: DeleteRef %s/%s %s: %v", owner, repo, ref, err)
	}
}
