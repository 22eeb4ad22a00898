package validate_test

import (
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/validate"
)

// FuzzRepo: whatever a person types, an accepted OWNER/NAME is two plain
// path segments — never ".", "..", a slash, or longer than the sites allow
// — and an error stays short.
func FuzzRepo(f *testing.F) {
	for _, s := range []string{"acme/widget", "acme/widget.git", "acme/..git", "acme/...git", "a/b/c", "/x", "x/", "é/ü", ".github/.github"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, site := range []validate.Site{validate.GitHub, validate.Gitee} {
			owner, name, err := validate.Repo(site, s)
			if err != nil {
				if len(err.Error()) > 400 {
					t.Fatalf("error of %d bytes", len(err.Error()))
				}
				continue
			}
			for _, seg := range []string{owner, name} {
				if seg == "" || seg == "." || seg == ".." || strings.ContainsAny(seg, "/\\?#% \x00") || len(seg) > validate.MaxGiteePath {
					t.Fatalf("Repo(%s, %q) accepted segment %q", site, s, seg)
				}
			}
		}
	})
}

// FuzzPattern: an accepted pattern holds nothing a Git ref name cannot.
func FuzzPattern(f *testing.F) {
	for _, s := range []string{"main", "release/**", "!v0*", "a..b", "v 1~", "[", "refs/heads/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if validate.Pattern("pattern", s) != nil {
			return
		}
		g := strings.TrimPrefix(s, "!")
		if g == "" || strings.Contains(g, "..") || strings.ContainsAny(g, " ~^:\\\x00") || len(s) > validate.MaxPatternLen {
			t.Fatalf("Pattern accepted %q", s)
		}
	})
}
