package repoconfig

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/gitee-mirror/gitee-mirror/internal/validate"
)

// Path is where the file lives in a repository.
const Path = ".github/gitee-mirror.yml"

// Visibilities of a Gitee repository created by the App.
const (
	VisibilityPrivate = "private"
	VisibilityPublic  = "public"
	VisibilitySource  = "source" // the same as the GitHub repository
)

// maxErrors bounds how many problems one error reports.
const maxErrors = 10

// MaxFileBytes bounds the file: a settings file is a few hundred bytes;
// a bigger one is refused before YAML reads it.
const MaxFileBytes = 64 << 10

// Mirror is one mirror as the file describes it, with defaults applied.
type Mirror struct {
	Line       int // where the mirror starts in the file
	GiteeOwner string
	GiteeName  string
	Direction  store.Direction

	Branches []string // globs, "!" excludes; empty = all
	Tags     []string
	NoTags   bool

	Force         bool
	Prune         bool
	CreateMissing bool
	Visibility    string

	Releases bool           // mirror published releases and their assets
	LFS      mirror.LFSMode // Git LFS objects: off, copy (true) or required
}

// Target is "owner/name" on Gitee.
func (m *Mirror) Target() string { return m.GiteeOwner + "/" + m.GiteeName }

// defaults are the settings of a mirror that says nothing else.
func defaults(line int) Mirror {
	return Mirror{Line: line, Direction: store.AToB, Prune: true, CreateMissing: true, Visibility: VisibilitySource}
}

// Error is one problem in the file.
type Error struct {
	Line    int
	Field   string // the key, e.g. "direction" or "mirrors[1].tags"; "" for the file
	Message string // what is wrong and what is allowed
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", Path)
	if e.Line > 0 {
		fmt.Fprintf(&b, " line %d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Parse reads the file. A file that lists no mirror (mirrors: []) yields
// none; an empty file is an error, so that emptying it by accident does not
// delete mirrors. The error is a *failure.Error of class Invalid whose chain
// holds one *Error per problem.
func Parse(data []byte) ([]Mirror, error) {
	p := &parser{}
	ms := p.parse(data)
	if len(p.errs) > 0 {
		return nil, failure.Wrap(failure.Invalid, Errors(p.errs), "the mirror settings are not valid")
	}
	return ms, nil
}

// Errors are the problems found in one file.
type Errors []*Error

// Error joins the problems.
func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

// Unwrap lets errors.As reach each *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// parser collects problems rather than stopping at the first.
type parser struct{ errs []*Error }

func (p *parser) fail(line int, field, format string, args ...any) {
	if len(p.errs) < maxErrors {
		p.errs = append(p.errs, &Error{Line: line, Field: field, Message: fmt.Sprintf(format, args...)})
	}
}

func (p *parser) parse(data []byte) []Mirror {
	if len(data) > MaxFileBytes {
		p.fail(0, "", "the file is larger than %d KiB: list at most %d mirrors, with globs rather than long lists", MaxFileBytes>>10, validate.MaxMirrors)
		return nil
	}
	if len(bytes.TrimSpace(data)) == 0 {
		p.fail(0, "", "the file is empty: give a target (one mirror) or a mirrors: list (mirrors: [] for none)")
		return nil
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		line, msg := syntaxError(err)
		p.fail(line, "", "not valid YAML: %s", msg)
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		line := extra.Line
		if len(extra.Content) > 0 {
			line = extra.Content[0].Line
		}
		p.fail(line, "", "holds more than one YAML document: put every mirror under one mirrors: list")
		return nil
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		p.fail(root.Line, "", "want a mapping with target: (one mirror) or mirrors: (a list)")
		return nil
	}
	if list := lookup(root, "mirrors"); list != nil {
		return p.list(root, list)
	}
	m, ok := p.mirror(root, "")
	if !ok {
		return nil
	}
	return []Mirror{m}
}

// list reads mirrors: [...]; no other top-level key may sit beside it.
func (p *parser) list(root, list *yaml.Node) []Mirror {
	for i := 0; i+1 < len(root.Content); i += 2 {
		if k := root.Content[i]; k.Value != "mirrors" {
			p.fail(k.Line, k.Value, "not allowed next to mirrors: put it inside each entry of the list")
		}
	}
	if list.Kind == yaml.ScalarNode && list.Tag == "!!null" {
		return nil
	}
	if list.Kind != yaml.SequenceNode {
		p.fail(list.Line, "mirrors", "want a list of mirrors (each a mapping with target:)")
		return nil
	}
	if err := validate.Count("mirrors", len(list.Content), validate.MaxMirrors); err != nil {
		p.fail(list.Line, "mirrors", "%v", err)
		return nil
	}
	var out []Mirror
	seen := map[string]int{}
	for i, n := range list.Content {
		field := fmt.Sprintf("mirrors[%d]", i)
		if n.Kind != yaml.MappingNode {
			p.fail(n.Line, field, "want a mapping with target:, direction: and so on")
			continue
		}
		m, ok := p.mirror(n, field+".")
		if !ok {
			continue
		}
		key := strings.ToLower(m.Target())
		if first, dup := seen[key]; dup {
			p.fail(n.Line, field+".target", "%s is already the target of the mirror on line %d: list each target once", m.Target(), first)
			continue
		}
		seen[key] = m.Line
		out = append(out, m)
	}
	return out
}

// syntaxError splits YAML's "yaml: line N: what" into the line and the
// words, with advice for the mistake people make most (a tab indent).
func syntaxError(err error) (line int, msg string) {
	msg = strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, after, ok := strings.Cut(rest, ": "); ok {
			if l, err := strconv.Atoi(n); err == nil && l > 0 {
				line, msg = l, after
			}
		}
	}
	if strings.Contains(msg, "tab character") || strings.Contains(msg, "found character that cannot start any token") {
		msg += ": indent with spaces, not tabs"
	}
	return line, msg
}

// Problems returns the problems a Parse error holds, each with its line,
// key and what to write instead, in the store's words; nil for an error
// Parse did not make.
func Problems(err error) []store.ConfigError {
	var es Errors
	if !errors.As(err, &es) {
		return nil
	}
	out := make([]store.ConfigError, len(es))
	for i, e := range es {
		out[i] = store.ConfigError{Line: e.Line, Key: e.Field, Message: e.Message}
	}
	return out
}

// lookup returns the value of key in a mapping, or nil.
func lookup(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
