package mirror

import (
	"os/exec"
	"testing"
)

func TestCheckRefName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ok   bool
	}{
		{"refs/heads/main", true},
		{"refs/heads/feature/x-1", true},
		{"refs/tags/v1.0.0", true},
		{"refs/heads/日本", true},
		{"", false},
		{"HEAD", false},
		{"refs/heads/", false},
		{"refs/heads/a..b", false},
		{"refs/heads/a b", false},
		{"refs/heads/a~1", false},
		{"refs/heads/a^", false},
		{"refs/heads/a:b", false},
		{"refs/heads/a?", false},
		{"refs/heads/a*", false},
		{"refs/heads/a[", false},
		{"refs/heads/a\\b", false},
		{"refs/heads/a@{1}", false},
		{"refs/heads//a", false},
		{"refs/heads/.hidden", false},
		{"refs/heads/a.lock", false},
		{"refs/heads/a.", false},
		{"refs/heads/--upload-pack=evil", false},
		{"refs/heads/a\x01", false},
		{"refs/heads/a\x7f", false},
		{"@", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := CheckRefName(tt.name)
			if got := err == nil; got != tt.ok {
				t.Errorf("CheckRefName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
			}
		})
	}
}

// CheckRefName agrees with git check-ref-format on names git itself
// judges (names under refs/ that do not start a component with "-",
// which CheckRefName refuses on purpose).
func TestCheckRefNameAgreesWithGit(t *testing.T) {
	t.Parallel()
	for _, ref := range []string{
		"refs/heads/main", "refs/heads/feature/x", "refs/heads/v1.0", "refs/heads/ünï",
		"refs/heads/.hidden", "refs/heads/x.lock", "refs/heads/a..b", "refs/heads/a b",
		"refs/heads/a~1", "refs/heads/a^", "refs/heads/a:b", "refs/heads/a?", "refs/heads/a*",
		"refs/heads/a[", `refs/heads/a\b`, "refs/heads/a@{1}", "refs/heads/", "refs/heads//x",
		"refs/heads/x.", "refs/heads/tab\tx", "@", "refs/heads/@", "refs/heads/x/.y",
	} {
		err := exec.Command("git", "check-ref-format", ref).Run()
		if got, want := CheckRefName(ref) == nil, err == nil; got != want {
			t.Errorf("CheckRefName(%q) ok = %v, git check-ref-format says %v", ref, got, want)
		}
	}
}

func TestScope(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		branches []string
		tags     []string
		noTags   bool
		ref      string
		want     bool
	}{
		{name: "all branches by default", ref: "refs/heads/x/y", want: true},
		{name: "all tags by default", ref: "refs/tags/v1", want: true},
		{name: "pull refs never", ref: "refs/pull/1/head", want: false},
		{name: "remotes never", ref: "refs/remotes/origin/main", want: false},
		{name: "our backups never", ref: "refs/mirror-backup/x/heads/main", want: false},
		{name: "glob includes", branches: []string{"release/*"}, ref: "refs/heads/release/1.0", want: true},
		{name: "glob does not cross slash", branches: []string{"release/*"}, ref: "refs/heads/release/1.0/rc", want: false},
		{name: "double star crosses slash", branches: []string{"release/**"}, ref: "refs/heads/release/1.0/rc", want: true},
		{name: "glob excludes others", branches: []string{"main"}, ref: "refs/heads/dev", want: false},
		{name: "exclusion only", branches: []string{"!wip/*"}, ref: "refs/heads/main", want: true},
		{name: "exclusion hits", branches: []string{"!wip/*"}, ref: "refs/heads/wip/a", want: false},
		{name: "later pattern wins", branches: []string{"**", "!wip/*", "wip/keep"}, ref: "refs/heads/wip/keep", want: true},
		{name: "tags off", noTags: true, ref: "refs/tags/v1", want: false},
		{name: "tags filtered", tags: []string{"v*", "!*-rc*"}, ref: "refs/tags/v1-rc1", want: false},
		{name: "tags filtered in", tags: []string{"v*", "!*-rc*"}, ref: "refs/tags/v1", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := NewScope(tt.branches, tt.tags, tt.noTags)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.In(tt.ref); got != tt.want {
				t.Errorf("In(%q) = %v, want %v", tt.ref, got, tt.want)
			}
		})
	}
}

func TestNewScopeRejectsBadGlob(t *testing.T) {
	t.Parallel()
	if _, err := NewScope([]string{"[oops"}, nil, false); err == nil {
		t.Fatal("want an error for a malformed glob")
	}
}
