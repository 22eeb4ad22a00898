package repoconfig

import (
	"strings"
	"testing"
)

// TestParseAsStrictAsTheForm: the file was looser than the settings form.
// `target: acme/..git` passed (the segment was checked before ".git" was
// stripped) and became the mirror acme/. — replacing a working mirror. So
// did patterns no ref can match, 50,000 patterns and 1 MB names.
func TestParseAsStrictAsTheForm(t *testing.T) {
	t.Parallel()
	patterns := func(n int) string { return "target: a/b\nbranches: [" + strings.Repeat("b,", n-1) + "b]\n" }
	tests := map[string]struct {
		in   string
		want []string
	}{
		"dot-dot-git":          {"target: acme/..git\n", []string{"line 1", "target", `"..git"`}},
		"dot-dot-dot-git":      {"target: acme/...git\n", []string{"line 1", "target", `"...git"`}},
		"gitee prefix ..git":   {"target: gitee/acme/..git\n", []string{"target"}},
		"owner ..git":          {"target: ..git/widget\n", []string{"target"}},
		"leading dash name":    {"target: acme/-x\n", []string{"target", "letter or digit"}},
		"a..b pattern":         {"target: a/b\nbranches: [a..b]\n", []string{"line 2", "branches", `"a..b"`}},
		"v 1~ pattern":         {"target: a/b\ntags: [\"v 1~\"]\n", []string{"line 2", "tags", `"v 1~"`}},
		"full ref pattern":     {"target: a/b\nbranches: [refs/heads/main]\n", []string{"branches", "short name"}},
		"30,000 patterns":      {patterns(30000), []string{"line 2", "branches", "30000 entries; at most 100"}},
		"50,000 patterns":      {patterns(50000), []string{"larger than 64 KiB"}},
		"10 KB name":           {"target: acme/" + strings.Repeat("n", 10<<10) + "\n", []string{"target", "191"}},
		"1 MB name":            {"target: acme/" + strings.Repeat("n", 1<<20) + "\n", []string{"larger than 64 KiB"}},
		"1 MB file":            {"target: a/b\n#" + strings.Repeat("x", 1<<20) + "\n", []string{"larger than"}},
		"too many mirrors":     {"mirrors:\n" + strings.Repeat("  - target: a/b\n", 101), []string{"mirrors", "at most 100"}},
		"error stays readable": {"target: acme/" + strings.Repeat("é", 10<<10) + "\n", []string{"bytes)"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse([]byte(tc.in))
			if err == nil {
				t.Fatalf("Parse = %+v, want an error", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %.400q does not contain %q", err, w)
				}
			}
			if len(err.Error()) > 2000 {
				t.Errorf("error is %d bytes long", len(err.Error()))
			}
		})
	}
}
