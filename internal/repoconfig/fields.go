package repoconfig

import (
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/gitee-mirror/gitee-mirror/internal/validate"
)

// keys are the fields of a mirror, in the order the docs list them.
var keys = []string{"target", "direction", "branches", "tags", "force", "prune", "create-missing", "visibility", "releases", "lfs"}

// mirror reads one mirror's mapping; prefix qualifies field names in errors
// ("mirrors[2].").
func (p *parser) mirror(n *yaml.Node, prefix string) (Mirror, bool) {
	before := len(p.errs)
	m := defaults(n.Line)
	seen := map[string]int{} // key → its line
	hasTarget := false
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		field := prefix + k.Value
		if seen[k.Value] != 0 {
			p.fail(k.Line, field, "given twice: keep one")
			continue
		}
		seen[k.Value] = k.Line
		switch k.Value {
		case "target":
			hasTarget = true
			m.GiteeOwner, m.GiteeName = p.target(v, field)
		case "direction":
			m.Direction = p.direction(v, field)
		case "branches":
			m.Branches = p.globs(v, field, false, nil)
		case "tags":
			m.Tags = p.globs(v, field, true, &m.NoTags)
		case "force":
			m.Force = p.boolean(v, field, m.Force)
		case "prune":
			m.Prune = p.boolean(v, field, m.Prune)
		case "create-missing":
			m.CreateMissing = p.boolean(v, field, m.CreateMissing)
		case "visibility":
			m.Visibility = p.visibility(v, field)
		case "releases":
			m.Releases = p.boolean(v, field, m.Releases)
		case "lfs":
			m.LFS = p.lfs(v, field)
		default:
			p.fail(k.Line, field, "unknown key: allowed are %s", strings.Join(keys, ", "))
		}
	}
	if !hasTarget {
		p.fail(n.Line, prefix+"target", "missing: name the Gitee repository as owner/name (or gitee/owner/name)")
	}
	if err := validate.Force(m.Direction.TwoWay(), m.Force); err != nil {
		p.fail(seen["force"], prefix+"force", "%s", strings.TrimPrefix(err.Error(), "force: "))
	}
	return m, len(p.errs) == before
}

// scalar returns a plain scalar's text, or fails.
func (p *parser) scalar(v *yaml.Node, field, want string) (string, bool) {
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		p.fail(v.Line, field, "want %s", want)
		return "", false
	}
	return v.Value, true
}

// target reads owner/name or gitee/owner/name, with Gitee's path rules
// (internal/validate): the name is checked after ".git" is stripped.
func (p *parser) target(v *yaml.Node, field string) (owner, name string) {
	const want = "the Gitee repository as owner/name (or gitee/owner/name)"
	s, ok := p.scalar(v, field, want)
	if !ok {
		return "", ""
	}
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "gitee/"); ok && strings.Count(s, "/") == 2 {
		s = rest
	} else if len(s) > 6 && strings.EqualFold(s[:6], "gitee/") && strings.Count(s, "/") == 2 {
		s = s[6:]
	}
	owner, name, err := validate.Repo(validate.Gitee, s)
	if err != nil {
		p.fail(v.Line, field, "want %s: %v", want, err)
		return "", ""
	}
	return owner, name
}

func (p *parser) direction(v *yaml.Node, field string) store.Direction {
	const want = "push (GitHub → Gitee), pull (Gitee → GitHub) or both (two-way)"
	s, ok := p.scalar(v, field, want)
	if !ok {
		return store.AToB
	}
	if d, err := store.DirectionOf(strings.ToLower(strings.TrimSpace(s))); err == nil {
		return d
	}
	p.fail(v.Line, field, "want %s, got %q", want, s)
	return store.AToB
}

// boolean reads true or false, nothing else.
func (p *parser) boolean(v *yaml.Node, field string, def bool) bool {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!bool" {
		var b bool
		if err := v.Decode(&b); err == nil {
			return b
		}
	}
	p.fail(v.Line, field, "want true or false, got %s", show(v))
	return def
}

// lfs reads true, false or required (internal/validate's rule).
func (p *parser) lfs(v *yaml.Node, field string) mirror.LFSMode {
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		p.fail(v.Line, field, "want true, false or required, got %s", show(v))
		return mirror.LFSOff
	}
	mode, err := validate.LFS(v.Value)
	if err != nil {
		p.fail(v.Line, field, "%s", strings.TrimPrefix(err.Error(), "lfs "))
		return mirror.LFSOff
	}
	return mirror.LFSMode(mode)
}

func (p *parser) visibility(v *yaml.Node, field string) string {
	const want = "private, public, or source (the same as the GitHub repository)"
	s, ok := p.scalar(v, field, want)
	if !ok {
		return VisibilitySource
	}
	switch s = strings.ToLower(strings.TrimSpace(s)); s {
	case VisibilityPrivate, VisibilityPublic, VisibilitySource:
		return s
	}
	p.fail(v.Line, field, "want %s, got %q", want, v.Value)
	return VisibilitySource
}

// globs reads a list of globs or a comma-separated string. With allowOff,
// false sets *off (no refs of this kind) and true means all.
func (p *parser) globs(v *yaml.Node, field string, allowOff bool, off *bool) []string {
	want := "a list of globs or a comma-separated string"
	if allowOff {
		want += ", or false for none"
	}
	var items []*yaml.Node
	switch {
	case v.Kind == yaml.ScalarNode && v.Tag == "!!bool" && allowOff:
		*off = v.Value == "false" || v.Value == "False" || v.Value == "FALSE"
		return nil
	case v.Kind == yaml.ScalarNode && v.Tag != "!!null" && v.Tag != "!!bool":
		for _, s := range strings.Split(v.Value, ",") {
			items = append(items, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s, Line: v.Line})
		}
	case v.Kind == yaml.SequenceNode:
		items = v.Content
	default:
		p.fail(v.Line, field, "want %s, got %s", want, show(v))
		return nil
	}
	if err := validate.Count(field, len(items), validate.MaxPatterns); err != nil {
		p.fail(v.Line, field, "%v: keep the list short with globs (release/*)", err)
		return nil
	}
	var out []string
	for _, it := range items {
		if it.Kind != yaml.ScalarNode || it.Tag == "!!null" {
			p.fail(it.Line, field, "want %s; each entry a glob such as main or release/*, got %s", want, show(it))
			continue
		}
		g := strings.TrimSpace(it.Value)
		if g == "" {
			continue
		}
		if err := validate.Pattern("pattern", g); err != nil {
			p.fail(it.Line, field, "%v", err)
			continue
		}
		out = append(out, g)
	}
	return out
}

// show describes a node for an error message.
func show(v *yaml.Node) string {
	switch v.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		return "an alias"
	}
	if v.Tag == "!!null" {
		return "nothing"
	}
	return "\"" + v.Value + "\""
}
