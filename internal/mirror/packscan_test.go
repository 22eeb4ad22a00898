package mirror

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

// gitRepo makes a repository with the git CLI: a history with a merge, an
// annotated tag, a tag of a tag, and long near-identical commit messages so
// that pack-objects stores some commits as deltas.
func gitRepo(t *testing.T) (dir string, run func(stdin string, args ...string) string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir = t.TempDir()
	run = func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader(stdin)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir,
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com",
			"GIT_AUTHOR_DATE=2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2026-01-01T00:00:00Z")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, errb.String())
		}
		return out.String()
	}
	run("", "init", "-q", "-b", "main")
	long := strings.Repeat("a long commit message body line that repeats so deltas pay off\n", 40)
	commit := func(i int) {
		name := "f.txt"
		if i >= 100 {
			name = "side.txt"
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(fmt.Sprint(i)), 0o644); err != nil {
			t.Fatal(err)
		}
		run("", "add", name)
		run("", "commit", "-q", "-m", fmt.Sprintf("commit %d\n\n%s", i, long))
	}
	for i := 0; i < 20; i++ {
		commit(i)
	}
	run("", "checkout", "-q", "-b", "side", "HEAD~5")
	for i := 100; i < 105; i++ {
		commit(i)
	}
	run("", "checkout", "-q", "main")
	run("", "merge", "-q", "--no-ff", "-m", "merge side", "side")
	run("", "tag", "-a", "-m", "v1", "v1", "main~3")
	run("", "tag", "-a", "-m", "tag of tag", "v1-signed", "v1")
	return dir, run
}

func TestScanPackRecordsEveryCommitAndTag(t *testing.T) {
	t.Parallel()
	_, run := gitRepo(t)
	pack := run("", "pack-objects", "--all", "--revs", "--stdout", "--delta-base-offset", "--window=50", "--depth=50", "-q")
	// The test means something only if the pack holds commits stored as
	// deltas: a pack without them is a broken set-up, not a pass.
	if n := deltaCommits(run("", "verify-pack", "-v", writeTemp(t, pack))); n == 0 {
		t.Fatal("set-up: the pack stores no commit as a delta; the scanner's delta path is not exercised")
	}
	g := NewGraph()
	if err := scanPack(strings.NewReader(pack), g); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(run("", "rev-list", "--parents", "--all")), "\n") {
		f := strings.Fields(line)
		want[f[0]] = f[1:]
	}
	for _, tag := range []string{"v1", "v1-signed"} {
		id := strings.TrimSpace(run("", "rev-parse", tag))
		target := strings.TrimSpace(run("", "cat-file", "-p", id))
		want[id] = []string{strings.Fields(target)[1]}
	}
	if got, w := g.Len(), len(want); got != w {
		t.Fatalf("graph has %d nodes, want %d", got, w)
	}
	for node, parents := range want {
		got := g.edges[plumbing.NewHash(node)]
		if len(got) != len(parents) {
			t.Fatalf("%s: %d links, want %d", node, len(got), len(parents))
		}
		for i, p := range parents {
			if got[i].String() != p {
				t.Errorf("%s link %d = %s, want %s", node, i, got[i], p)
			}
		}
	}
}

// deltaCommits counts the commits that git verify-pack -v lists as deltas
// (lines "oid commit size packed offset depth base").
func deltaCommits(verify string) int {
	n := 0
	for _, line := range strings.Split(verify, "\n") {
		if f := strings.Fields(line); len(f) == 7 && f[1] == "commit" {
			n++
		}
	}
	return n
}

func writeTemp(t *testing.T, pack string) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "p.pack")
	if err := os.WriteFile(p, []byte(pack), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("git", "index-pack", p)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("index-pack: %v %s", err, out)
	}
	return strings.TrimSuffix(p, ".pack") + ".idx"
}

func TestGraphReaches(t *testing.T) {
	t.Parallel()
	_, run := gitRepo(t)
	rev := func(r string) plumbing.Hash { return plumbing.NewHash(strings.TrimSpace(run("", "rev-parse", r))) }
	// A thin pack of main since main~4: the walk meets its boundary there.
	thin := run("main\n^main~4\n", "pack-objects", "--revs", "--thin", "--stdout", "--delta-base-offset", "-q")
	g := NewGraph()
	if err := scanPack(strings.NewReader(thin), g); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		a    string
		from []string
		want Answer
	}{
		{"itself", "main", []string{"main"}, Yes},
		{"boundary parent", "main~4", []string{"main"}, Yes},
		{"beyond the pack", "main~10", []string{"main"}, Unknown},
		{"side branch tip is in the merge", "side", []string{"main"}, Yes},
		{"not an ancestor", "main", []string{"main~1"}, Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from := make([]plumbing.Hash, len(tt.from))
			for i, f := range tt.from {
				from[i] = rev(f)
			}
			if got := g.Reaches(rev(tt.a), from); got != tt.want {
				t.Errorf("Reaches(%s, %v) = %v, want %v", tt.a, tt.from, got, tt.want)
			}
		})
	}
	// An exact pack (only "have" is the questioned commit) answers No.
	exact := run("main~1\n^main\n", "pack-objects", "--revs", "--stdout", "-q")
	eg := NewGraph()
	if err := scanPack(strings.NewReader(exact), eg); err != nil {
		t.Fatal(err)
	}
	if got := (exactAnswer{eg}).Reaches(rev("main"), []plumbing.Hash{rev("main~1")}); got != No {
		t.Errorf("exact answer = %v, want No", got)
	}
}

func TestGraphSaveLoad(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "graph")
	g := NewGraph()
	g.Add(h("a"), []plumbing.Hash{h("b"), h("c")})
	g.Add(h("b"), nil)
	if err := g.Save(p); err != nil {
		t.Fatal(err)
	}
	g.Add(h("c"), []plumbing.Hash{h("b")})
	if err := g.Save(p); err != nil {
		t.Fatal(err)
	}
	// A crash mid-write leaves a partial record: it is ignored.
	f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte{1, 2, 3})
	f.Close()
	l := NewGraph()
	if err := l.Load(p); err != nil {
		t.Fatal(err)
	}
	if got, want := l.Len(), 3; got != want {
		t.Fatalf("loaded %d nodes, want %d", got, want)
	}
	if got := l.Reaches(h("b"), []plumbing.Hash{h("a")}); got != Yes {
		t.Errorf("Reaches = %v, want Yes", got)
	}
	if got := l.Reaches(h("d"), []plumbing.Hash{h("a")}); got != No {
		t.Errorf("Reaches(unrelated) = %v, want No", got)
	}
}
