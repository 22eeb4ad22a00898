package githubapp_test

import (
	"os/exec"
	"strings"
	"testing"
)

// gitCommit makes a commit with the empty tree in the bare repository dir.
func gitCommit(t *testing.T, dir string) string {
	t.Helper()
	run := func(stdin string, args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader(stdin)
		cmd.Env = []string{"GIT_CONFIG_NOSYSTEM=1", "HOME=" + t.TempDir(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com"}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	tree := run("", "hash-object", "-t", "tree", "-w", "--stdin")
	return run("", "commit-tree", tree, "-m", "c")
}
