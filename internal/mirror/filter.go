package mirror

import (
	"fmt"
	"path"
	"strings"
)

// Branch and tag ref prefixes: the only namespaces a mirror touches.
const (
	headsPrefix = "refs/heads/"
	tagsPrefix  = "refs/tags/"
)

// Filter selects refs by short name with glob patterns. A pattern with a
// leading "!" excludes; the last pattern that matches decides, as in GitHub
// Actions' branch filters. With only exclusions, everything else is in; an
// empty filter matches everything.
type Filter struct {
	patterns []string
	allOff   bool
}

// NewFilter compiles patterns, rejecting malformed globs.
func NewFilter(patterns []string) (Filter, error) {
	var f Filter
	for _, p := range patterns {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if _, err := path.Match(strings.TrimPrefix(p, "!"), ""); err != nil {
			return Filter{}, fmt.Errorf("bad pattern %q: %w", p, err)
		}
		f.patterns = append(f.patterns, p)
	}
	return f, nil
}

// Match reports whether a short ref name is selected.
func (f Filter) Match(name string) bool {
	if f.allOff {
		return false
	}
	if len(f.patterns) == 0 {
		return true
	}
	// Only exclusions: start from "everything".
	in := true
	for _, p := range f.patterns {
		if !strings.HasPrefix(p, "!") {
			in = false
			break
		}
	}
	for _, p := range f.patterns {
		neg := strings.HasPrefix(p, "!")
		if globMatch(strings.TrimPrefix(p, "!"), name) {
			in = !neg
		}
	}
	return in
}

// globMatch follows GitHub Actions' filter globs: "*" matches within one
// path segment, "**" across segments ("release/**" matches "release/1.0/rc1").
func globMatch(pattern, name string) bool {
	if pattern == "**" {
		return true
	}
	if strings.Contains(pattern, "**") {
		// "**" matches any run including "/": compare with "/" folded away.
		flat := strings.ReplaceAll(pattern, "**", "*")
		ok, _ := path.Match(strings.ReplaceAll(flat, "/", "\x00"), strings.ReplaceAll(name, "/", "\x00"))
		return ok
	}
	ok, _ := path.Match(pattern, name)
	return ok
}

// Scope decides which full ref names a sync touches.
type Scope struct {
	Branches Filter
	Tags     Filter
}

// NewScope builds the scope from Options.
func NewScope(branches, tags []string, noTags bool) (Scope, error) {
	b, err := NewFilter(branches)
	if err != nil {
		return Scope{}, fmt.Errorf("branches: %w", err)
	}
	t, err := NewFilter(tags)
	if err != nil {
		return Scope{}, fmt.Errorf("tags: %w", err)
	}
	t.allOff = noTags
	return Scope{Branches: b, Tags: t}, nil
}

// In reports whether a full ref name is in scope. Only refs/heads/* and
// refs/tags/* ever are: never refs/pull/*, refs/remotes/* or our own
// refs/mirror-backup/*.
func (s Scope) In(ref string) bool {
	switch {
	case strings.HasPrefix(ref, headsPrefix):
		return s.Branches.Match(strings.TrimPrefix(ref, headsPrefix))
	case strings.HasPrefix(ref, tagsPrefix):
		return s.Tags.Match(strings.TrimPrefix(ref, tagsPrefix))
	}
	return false
}
