package validate_test

import (
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/validate"
)

func TestName(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		site validate.Site
		in   string
		want string // "" when refused
	}{
		"plain":                {validate.Gitee, "widget", "widget"},
		"clone suffix":         {validate.Gitee, "widget.git", "widget"},
		"dots inside":          {validate.GitHub, "a.b.c", "a.b.c"},
		"github dotfile repo":  {validate.GitHub, ".github", ".github"},
		"dot-dot-git":          {validate.Gitee, "..git", ""},
		"dot-dot-dot-git":      {validate.Gitee, "...git", ""},
		"dot-dot-git github":   {validate.GitHub, "..git", ""},
		"dot":                  {validate.GitHub, ".", ""},
		"dotdot":               {validate.GitHub, "..", ""},
		"only .git":            {validate.Gitee, ".git", ""},
		"empty":                {validate.Gitee, "", ""},
		"slash":                {validate.Gitee, "a/b", ""},
		"space":                {validate.Gitee, "a b", ""},
		"unicode":              {validate.Gitee, "仓库", ""},
		"gitee leading dot":    {validate.Gitee, ".hidden", ""},
		"gitee leading dash":   {validate.Gitee, "-x", ""},
		"gitee 191":            {validate.Gitee, strings.Repeat("a", 191), strings.Repeat("a", 191)},
		"gitee 192":            {validate.Gitee, strings.Repeat("a", 192), ""},
		"github 100":           {validate.GitHub, strings.Repeat("a", 100), strings.Repeat("a", 100)},
		"github 101":           {validate.GitHub, strings.Repeat("a", 101), ""},
		"one megabyte":         {validate.Gitee, strings.Repeat("a", 1<<20), ""},
		"percent":              {validate.GitHub, "a%2fb", ""},
		"query":                {validate.GitHub, "a?b", ""},
		"double .git stripped": {validate.Gitee, "a.git.git", "a.git"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := validate.Name(tc.site, tc.in)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("Name(%s, %.40q) = %q, want an error", tc.site, tc.in, got)
				}
				if len(err.Error()) > 300 {
					t.Errorf("error is %d bytes long", len(err.Error()))
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("Name(%s, %q) = %q, %v; want %q", tc.site, tc.in, got, err, tc.want)
			}
		})
	}
}

func TestOwner(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		site validate.Site
		in   string
		ok   bool
	}{
		"github user":       {validate.GitHub, "octo-cat", true},
		"github emu":        {validate.GitHub, "octo_acme", true},
		"github dot":        {validate.GitHub, "octo.cat", false},
		"github lead dash":  {validate.GitHub, "-octo", false},
		"github 39":         {validate.GitHub, strings.Repeat("a", 39), true},
		"github 40":         {validate.GitHub, strings.Repeat("a", 40), false},
		"gitee dot":         {validate.Gitee, "my.org", true},
		"gitee lead under":  {validate.Gitee, "_org", false},
		"gitee slash":       {validate.Gitee, "a/b", false},
		"gitee dotdot":      {validate.Gitee, "..", false},
		"empty":             {validate.Gitee, "", false},
		"gitee 1 MB":        {validate.Gitee, strings.Repeat("a", 1<<20), false},
		"gitee digit first": {validate.Gitee, "9lives", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if err := validate.Owner(tc.site, tc.in); (err == nil) != tc.ok {
				t.Errorf("Owner(%s, %.40q) = %v, want ok=%v", tc.site, tc.in, err, tc.ok)
			}
		})
	}
}

func TestRepo(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"acme/widget":     "acme widget",
		"acme/widget.git": "acme widget",
		"acme/..git":      "",
		"acme/...git":     "",
		"acme":            "",
		"acme/a/b":        "",
		"/widget":         "",
		"acme/":           "",
	} {
		o, n, err := validate.Repo(validate.Gitee, in)
		if got := strings.TrimSpace(o + " " + n); (err == nil) != (want != "") || (err == nil && got != want) {
			t.Errorf("Repo(%q) = %q, %q, %v; want %q", in, o, n, err, want)
		}
	}
}

func TestPattern(t *testing.T) {
	t.Parallel()
	ok := []string{"main", "release/*", "release/**", "!release/old-*", "v[0-9]*", "v?.*", "feature/a.b", "**"}
	bad := []string{"a..b", "v 1~", "!", "refs/heads/main", "a^b", "a:b", `a\b`, "a@{1}", "[", "/main", "main/", "a//b",
		"a\x00b", "tab\there", strings.Repeat("a", 256)}
	for _, p := range ok {
		if err := validate.Pattern("branch pattern", p); err != nil {
			t.Errorf("Pattern(%q) = %v, want ok", p, err)
		}
	}
	for _, p := range bad {
		if err := validate.Pattern("branch pattern", p); err == nil {
			t.Errorf("Pattern(%.40q) = nil, want an error", p)
		}
	}
}

func TestPatternsCount(t *testing.T) {
	t.Parallel()
	many := make([]string, 50000)
	for i := range many {
		many[i] = "b"
	}
	err := validate.Patterns("branches", many)
	if err == nil || !strings.Contains(err.Error(), "50000 entries; at most 100") {
		t.Errorf("Patterns(50,000) = %v", err)
	}
	if err := validate.Patterns("branches", many[:100]); err != nil {
		t.Errorf("Patterns(100) = %v", err)
	}
}

func TestNameGlob(t *testing.T) {
	t.Parallel()
	for p, ok := range map[string]bool{"lib-*": true, "a?c": true, "[a-c]*": true, "acme/*": false, "a b": false, "[": false, "": false} {
		if err := validate.NameGlob("include", p); (err == nil) != ok {
			t.Errorf("NameGlob(%q) = %v, want ok=%v", p, err, ok)
		}
	}
}

func TestToken(t *testing.T) {
	t.Parallel()
	const tok = "0123456789abcdef0123456789abcdef"
	if err := validate.Token("Gitee token", tok); err != nil {
		t.Errorf("Token = %v", err)
	}
	for name, in := range map[string]string{"empty": "", "line break": tok + "\n", "space": "a " + tok, "huge": strings.Repeat(tok, 1000)} {
		err := validate.Token("Gitee token", in)
		if err == nil {
			t.Errorf("%s: Token = nil, want an error", name)
			continue
		}
		if strings.Contains(err.Error(), tok) {
			t.Errorf("%s: the error quotes the token: %v", name, err)
		}
	}
}

func TestErrorShortensValues(t *testing.T) {
	t.Parallel()
	_, err := validate.Name(validate.Gitee, strings.Repeat("é", 1<<19))
	if err == nil || len(err.Error()) > 200 || !strings.Contains(err.Error(), "bytes)") {
		t.Errorf("error = %.300v", err)
	}
}
