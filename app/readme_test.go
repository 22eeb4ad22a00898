package main

import (
	"strings"
	"testing"
)

// TestReadmeNamesDependencies: every module go.mod requires directly is
// named under the README's Dependencies, where it says what it is for. A
// module under a named one (river's drivers under river) counts as named.
func TestReadmeNamesDependencies(t *testing.T) {
	t.Parallel()
	readme := readRepoFile(t, "README.md")
	_, section, ok := strings.Cut(readme, "\n## Dependencies\n")
	if !ok {
		t.Fatal("README.md has no \"## Dependencies\" section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var named []string
	for _, f := range strings.Split(section, "`") {
		if strings.Contains(f, ".") && strings.Contains(f, "/") && !strings.ContainsAny(f, " ") {
			named = append(named, f)
		}
	}
	direct := 0
	for _, line := range strings.Split(readRepoFile(t, "go.mod"), "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require "))
		// Requirements are "path version", in a block or after "require";
		// only a module path has a dot.
		if len(f) < 2 || strings.Contains(line, "// indirect") || !strings.Contains(f[0], ".") {
			continue
		}
		mod := f[0]
		direct++
		found := false
		for _, n := range named {
			if mod == n || strings.HasPrefix(mod, n+"/") {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("go.mod requires %s, which README.md's Dependencies does not name", mod)
		}
	}
	if direct == 0 {
		t.Error("found no direct requirement in go.mod")
	}
}
