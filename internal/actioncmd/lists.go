package actioncmd

import (
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/validate"
)

// splitList splits a list input on commas and line breaks, as
// hub-mirror-action does, and drops blanks.
func splitList(v string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// repoName checks a repository name of a list input with the rules every
// site shares (internal/validate) and returns it without ".git".
func repoName(s string) (string, error) { return validate.Name(validate.GitHub, s) }

// repoNames parses the repositories input: plain names, each once.
func repoNames(name, v string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	list := splitList(v)
	if err := validate.Count(name, len(list), validate.MaxRepositories); err != nil {
		return nil, inputErrorf(name, "%v", err)
	}
	for _, f := range list {
		if strings.Contains(f, "/") {
			return nil, inputErrorf(name, "%q: give names only (no OWNER/)", f)
		}
		f, err := repoName(f)
		if err != nil {
			return nil, inputErrorf(name, "%v: give names only (no OWNER/)", err)
		}
		key := strings.ToLower(f)
		if seen[key] {
			return nil, inputErrorf(name, "%q is listed twice", f)
		}
		seen[key] = true
		out = append(out, f)
	}
	return out, nil
}

// nameGlobs parses include or exclude: names or globs (path.Match syntax:
// *, ?, [a-z]), matched against repository names without regard to case.
// They are returned in lower case.
func nameGlobs(name, v string) ([]string, error) {
	var out []string
	list := splitList(v)
	if err := validate.Count(name, len(list), validate.MaxPatterns); err != nil {
		return nil, inputErrorf(name, "%v", err)
	}
	for _, f := range list {
		if err := validate.NameGlob(name, f); err != nil {
			return nil, inputErrorf(name, "%v", err)
		}
		out = append(out, strings.ToLower(f))
	}
	return out, nil
}

// parseMappings parses "a=>b, c=>d": source repository a is mirrored to b.
// Keys are lower case; no source or destination may appear twice.
func parseMappings(name, v string) (map[string]string, error) {
	out := map[string]string{}
	targets := map[string]string{}
	list := splitList(v)
	if err := validate.Count(name, len(list), validate.MaxRepositories); err != nil {
		return nil, inputErrorf(name, "%v", err)
	}
	for _, f := range list {
		from, to, ok := strings.Cut(f, "=>")
		from, to = strings.TrimSpace(from), strings.TrimSpace(to)
		if !ok || strings.Contains(to, "=>") {
			return nil, inputErrorf(name, "%q is not SOURCE=>DESTINATION (e.g. a=>b, c=>d)", f)
		}
		for _, n := range []string{from, to} {
			if _, err := repoName(n); err != nil || strings.Contains(n, "/") {
				return nil, inputErrorf(name, "in %q, %q is not a repository name (letters, digits, '.', '-' and '_'; no OWNER/)", f, n)
			}
		}
		key := strings.ToLower(from)
		if _, dup := out[key]; dup {
			return nil, inputErrorf(name, "%s is mapped twice", from)
		}
		if prev, dup := targets[strings.ToLower(to)]; dup {
			return nil, inputErrorf(name, "%s and %s are both mapped to %s", prev, from, to)
		}
		out[key] = to
		targets[strings.ToLower(to)] = from
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}
