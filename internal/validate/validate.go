// Package validate is the one set of rules for what people type: owner
// and repository names (with each site's own rules), branch and tag globs,
// repository-name globs, tokens, and how many of each. The settings form,
// the settings file (.github/gitee-mirror.yml), the admin API and the
// Action's inputs all check through it, so that none is looser than
// another.
//
// Errors say what is wrong and what is allowed; they quote at most the
// first few dozen characters of a value and never a token.
package validate

import (
	"fmt"
	"strings"
)

// Site is a hosting site whose naming rules apply.
type Site string

// Sites.
const (
	GitHub Site = "GitHub"
	Gitee  Site = "Gitee"
)

// Limits. Each is well above any real use and far below what would cost
// memory or time: a settings file with 50,000 patterns or a 1 MB name is
// refused, not compiled.
const (
	// MaxGitHubOwner is GitHub's limit on a user or organisation name.
	MaxGitHubOwner = 39
	// MaxGitHubName is GitHub's limit on a repository name.
	MaxGitHubName = 100
	// MaxGiteePath is Gitee's limit on a namespace or repository path.
	MaxGiteePath = 191
	// MaxPatterns bounds the globs of one list (branches, tags, include,
	// exclude).
	MaxPatterns = 100
	// MaxPatternLen bounds one glob; a ref name longer than this is not
	// worth a pattern.
	MaxPatternLen = 255
	// MaxMirrors bounds the mirrors of one settings file.
	MaxMirrors = 100
	// MaxRepositories bounds the repositories (or mappings) one input
	// lists.
	MaxRepositories = 1000
	// MaxTokenLen bounds a personal access token.
	MaxTokenLen = 255
)

// Error is one value that breaks a rule.
type Error struct {
	What   string // "Gitee owner", "branch pattern"…
	Value  string // as given, shortened; "" for a secret
	Reason string // what is wrong and what is allowed
}

// Error implements error.
func (e *Error) Error() string {
	if e.Value == "" {
		return e.What + ": " + e.Reason
	}
	return fmt.Sprintf("%s %s: %s", e.What, quote(e.Value), e.Reason)
}

func fail(what, value, format string, args ...any) error {
	return &Error{What: what, Value: value, Reason: fmt.Sprintf(format, args...)}
}

// quote quotes s, cut to 60 bytes (on a rune boundary) so that a huge
// value does not become a huge error.
func quote(s string) string {
	const max = 60
	if len(s) <= max {
		return fmt.Sprintf("%q", s)
	}
	cut := max
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q… (%d bytes)", s[:cut], len(s))
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// Count checks that a list of what holds at most max entries.
func Count(what string, n, max int) error {
	if n > max {
		return &Error{What: what, Reason: fmt.Sprintf("%d entries; at most %d are allowed", n, max)}
	}
	return nil
}

// nameChars reports whether s holds only what both sites allow in names:
// ASCII letters, digits, '.', '-' and '_'.
func nameChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func alnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }

// Owner checks a user or organisation name on site.
//
// GitHub: letters, digits and '-' (and '_', which Enterprise Managed Users'
// logins carry), not starting with '-', at most 39 characters. Gitee: a
// namespace path: letters, digits, '.', '-' and '_', starting with a letter
// or digit, at most 191 characters.
func Owner(site Site, s string) error {
	what := string(site) + " owner"
	switch {
	case s == "":
		return fail(what, s, "empty: give the user or organisation name")
	case site == GitHub && len(s) > MaxGitHubOwner:
		return fail(what, s, "longer than %d characters, GitHub's limit", MaxGitHubOwner)
	case site == GitHub && (strings.Contains(s, ".") || !nameChars(s) || s[0] == '-'):
		return fail(what, s, "GitHub names hold only letters, digits and '-' (not first)")
	case site == Gitee && len(s) > MaxGiteePath:
		return fail(what, s, "longer than %d characters, Gitee's limit", MaxGiteePath)
	case site == Gitee && (!nameChars(s) || !alnum(s[0])):
		return fail(what, s, "Gitee paths hold only letters, digits, '.', '-' and '_', and start with a letter or digit")
	}
	return nil
}

// Name checks a repository name on site and returns it without one
// trailing ".git" (people paste clone URLs). The check runs on what is
// left, so "..git" and "...git" are refused rather than becoming "." and
// "..".
//
// GitHub: letters, digits, '.', '-' and '_', at most 100 characters, not
// "." or "..". Gitee: the same characters, starting with a letter or digit,
// at most 191 characters.
func Name(site Site, s string) (string, error) {
	what := string(site) + " repository name"
	n := strings.TrimSuffix(s, ".git")
	switch {
	case n == "":
		return "", fail(what, s, "empty: give the repository's name")
	case n == "." || n == "..":
		return "", fail(what, s, "%q is a path, not a name", n)
	case !nameChars(n):
		return "", fail(what, s, "names hold only letters, digits, '.', '-' and '_'")
	case site == GitHub && len(n) > MaxGitHubName:
		return "", fail(what, s, "longer than %d characters, GitHub's limit", MaxGitHubName)
	case site == Gitee && len(n) > MaxGiteePath:
		return "", fail(what, s, "longer than %d characters, Gitee's limit", MaxGiteePath)
	case site == Gitee && !alnum(n[0]):
		return "", fail(what, s, "Gitee paths start with a letter or digit")
	}
	return n, nil
}

// NameOn checks a name that must be valid on every site given (a name the
// Action uses on both sides); it returns the name without ".git".
func NameOn(s string, sites ...Site) (string, error) {
	var n string
	for _, site := range sites {
		var err error
		if n, err = Name(site, s); err != nil {
			return "", err
		}
	}
	return n, nil
}

// Repo checks "OWNER/NAME" on site and returns its parts, the name without
// ".git".
func Repo(site Site, s string) (owner, name string, err error) {
	owner, name, ok := strings.Cut(s, "/")
	if !ok || strings.Contains(name, "/") {
		return "", "", fail(string(site)+" repository", s, "want OWNER/NAME")
	}
	if err := Owner(site, owner); err != nil {
		return "", "", err
	}
	if name, err = Name(site, name); err != nil {
		return "", "", err
	}
	return owner, name, nil
}

// Token checks the shape of a personal access token: not empty, no
// spaces or control characters (a pasted line break), at most 255
// characters. The token itself never appears in the error.
func Token(what, s string) error {
	switch {
	case s == "":
		return &Error{What: what, Reason: "empty: paste the token"}
	case len(s) > MaxTokenLen:
		return &Error{What: what, Reason: fmt.Sprintf("%d characters; tokens are at most %d", len(s), MaxTokenLen)}
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return &Error{What: what, Reason: "holds spaces, line breaks or control characters: paste the token alone"}
		}
	}
	return nil
}
