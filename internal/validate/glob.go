package validate

import (
	"path"
	"strings"
)

// Pattern checks one branch or tag glob as the mirror's filters read it:
// "!" first excludes; "*" matches within a path segment, "**" across; "?"
// and "[…]" as in path.Match. What no Git ref name can hold (space, '~',
// '^', ':', '\', "..", "@{", control characters) is refused, since such a
// pattern can never match, and so is a full "refs/…" name: patterns match
// short names (main, v1.*).
func Pattern(what, p string) error {
	g := strings.TrimPrefix(p, "!")
	switch {
	case g == "":
		return fail(what, p, "excludes nothing: put a glob after the !")
	case len(p) > MaxPatternLen:
		return fail(what, p, "longer than %d characters", MaxPatternLen)
	case strings.HasPrefix(g, "refs/"):
		return fail(what, p, "give the short name (main, release/*, v1.*), not the full ref")
	case strings.HasPrefix(g, "/") || strings.HasSuffix(g, "/") || strings.Contains(g, "//"):
		return fail(what, p, "a ref name has no empty path segment")
	}
	for _, bad := range []string{"..", "@{"} {
		if strings.Contains(g, bad) {
			return fail(what, p, "no Git ref name holds %q", bad)
		}
	}
	for i := 0; i < len(g); i++ {
		c := g[i]
		if c < 0x20 || c == 0x7f {
			return fail(what, p, "holds a control character")
		}
		switch c {
		case ' ', '~', '^', ':', '\\':
			return fail(what, p, "no Git ref name holds %q", string(c))
		}
	}
	if _, err := path.Match(strings.ReplaceAll(g, "**", "*"), ""); err != nil {
		return fail(what, p, "not a valid glob: use * and ? and [...], ** across /")
	}
	return nil
}

// Patterns checks a list of branch or tag globs: at most MaxPatterns,
// each valid.
func Patterns(what string, ps []string) error {
	if err := Count(what+" patterns", len(ps), MaxPatterns); err != nil {
		return err
	}
	for _, p := range ps {
		if err := Pattern(what+" pattern", p); err != nil {
			return err
		}
	}
	return nil
}

// NameGlob checks a glob over repository names (the Action's include and
// exclude): name characters and glob syntax, no OWNER/.
func NameGlob(what, p string) error {
	switch {
	case p == "":
		return fail(what, p, "empty")
	case len(p) > MaxPatternLen:
		return fail(what, p, "longer than %d characters", MaxPatternLen)
	case strings.Contains(p, "/"):
		return fail(what, p, "give repository names or globs without OWNER/")
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !nameChars(p[i:i+1]) && !strings.ContainsRune("*?[]^!-", rune(c)) {
			return fail(what, p, "repository names hold only letters, digits, '.', '-' and '_' (with * ? [...] for globs)")
		}
	}
	if _, err := path.Match(p, ""); err != nil {
		return fail(what, p, "not a valid glob: use * and ? and [...]")
	}
	return nil
}
