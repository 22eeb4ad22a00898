package repoconfig

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeExample: the example file under the README's "Mirror settings"
// parses, shows every key the file takes, in the order keys lists them, and
// gives each option the default value the parser applies (target,
// branches and tags aside: they show what to write).
func TestReadmeExample(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "\n### Mirror settings: `.github/gitee-mirror.yml`\n")
	if !ok {
		t.Fatal("README.md has no \"### Mirror settings: `.github/gitee-mirror.yml`\" section")
	}
	_, block, ok := strings.Cut(after, "```yaml\n")
	if ok {
		block, _, ok = strings.Cut(block, "```")
	}
	if !ok {
		t.Fatal("the Mirror settings section has no ```yaml block")
	}
	var shown []string
	for _, m := range regexp.MustCompile(`(?m)^([a-z-]+):`).FindAllStringSubmatch(block, -1) {
		shown = append(shown, m[1])
	}
	if !reflect.DeepEqual(shown, keys) {
		t.Errorf("the README's example shows the keys %q; the file takes %q", shown, keys)
	}
	ms, err := Parse([]byte(block))
	if err != nil {
		t.Fatalf("the README's example does not parse: %v", err)
	}
	if len(ms) != 1 {
		t.Fatalf("the README's example is %d mirrors, want 1", len(ms))
	}
	got, want := ms[0], defaults(ms[0].Line)
	got.GiteeOwner, got.GiteeName, got.Branches, got.Tags, got.NoTags = "", "", nil, nil, false
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the README's example gives %+v; the defaults are %+v", got, want)
	}
}
