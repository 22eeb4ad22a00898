package repoconfig

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

func TestParse(t *testing.T) {
	t.Parallel()
	def := func(owner, name string, line int, edit func(*Mirror)) Mirror {
		m := defaults(line)
		m.GiteeOwner, m.GiteeName = owner, name
		if edit != nil {
			edit(&m)
		}
		return m
	}
	tests := []struct {
		name string
		in   string
		want []Mirror
	}{
		{"defaults", "target: acme/widget\n", []Mirror{def("acme", "widget", 1, nil)}},
		{"gitee prefix and .git", "target: gitee/acme/widget.git\n", []Mirror{def("acme", "widget", 1, nil)}},
		{
			"every field",
			"target: acme/widget\ndirection: pull\nbranches: [main, \"release/*\", \"!release/old\"]\ntags: \"v*, !v0*\"\n" +
				"force: true\nprune: false\ncreate-missing: false\nvisibility: Public\n",
			[]Mirror{def("acme", "widget", 1, func(m *Mirror) {
				m.Direction = store.BToA
				m.Branches = []string{"main", "release/*", "!release/old"}
				m.Tags = []string{"v*", "!v0*"}
				m.Force, m.Prune, m.CreateMissing = true, false, false
				m.Visibility = VisibilityPublic
			})},
		},
		{"both", "target: a/b\ndirection: Both\n", []Mirror{def("a", "b", 1, func(m *Mirror) { m.Direction = store.Both })}},
		{"both without force", "target: a/b\ndirection: both\nforce: false\n", []Mirror{def("a", "b", 1, func(m *Mirror) { m.Direction = store.Both })}},
		{"releases and lfs", "target: a/b\nreleases: true\nlfs: true\n", []Mirror{def("a", "b", 1, func(m *Mirror) { m.Releases, m.LFS = true, mirror.LFSCopy })}},
		{"lfs required", "target: a/b\nlfs: Required\n", []Mirror{def("a", "b", 1, func(m *Mirror) { m.LFS = mirror.LFSRequired })}},
		{"lfs false", "target: a/b\nlfs: false\nreleases: false\n", []Mirror{def("a", "b", 1, nil)}},
		{"tags false", "target: a/b\ntags: false\n", []Mirror{def("a", "b", 1, func(m *Mirror) { m.NoTags = true })}},
		{"tags true", "target: a/b\ntags: true\n", []Mirror{def("a", "b", 1, nil)}},
		{"branch string", "target: a/b\nbranches: main\n", []Mirror{def("a", "b", 1, func(m *Mirror) { m.Branches = []string{"main"} })}},
		{"numeric tag", "target: a/b\ntags: [1.0]\n", []Mirror{def("a", "b", 1, func(m *Mirror) { m.Tags = []string{"1.0"} })}},
		{
			"list",
			"mirrors:\n  - target: a/b\n  - target: gitee/c/d\n    direction: pull\n",
			[]Mirror{def("a", "b", 2, nil), def("c", "d", 3, func(m *Mirror) { m.Direction = store.BToA })},
		},
		{"empty list", "mirrors: []\n", nil},
		{"null list", "mirrors:\n", nil},
		{"comments only around", "# mirrors\ntarget: a/b # here\n", []Mirror{def("a", "b", 2, nil)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse([]byte(tt.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []string // every one must appear in the error
	}{
		{"empty", "  \n", []string{"empty"}},
		{"not yaml", "target: [a\n", []string{"not valid YAML"}},
		{"not yaml, line", "target: a/b\nforce: true\n  prune: false\n", []string{"line 3", "not valid YAML"}},
		{"scalar document", "acme/widget\n", []string{"want a mapping"}},
		{"two documents", "target: a/b\n---\ntarget: c/d\n", []string{"line 3", "more than one YAML document"}},
		{"unknown key", "target: a/b\nbrnaches: main\n", []string{"line 2", "brnaches", "unknown key", "branches, tags", "releases, lfs"}},
		{"missing target", "direction: push\n", []string{"target: missing", "owner/name"}},
		{"bad target", "target: acme\n", []string{"line 1", "target", `"acme"`, "owner/name"}},
		{"target with space", "target: acme/my repo\n", []string{"target", "letters, digits"}},
		{"target list", "target: [a, b]\n", []string{"target", "owner/name"}},
		{"direction", "target: a/b\ndirection: sideways\n", []string{"line 2", "direction", "push", "pull", "both", `"sideways"`}},
		{"both with force", "target: a/b\nforce: true\ndirection: both\n", []string{"line 2", "force", "direction both", "conflict"}},
		{"both with force in a list", "mirrors:\n  - target: a/b\n    direction: both\n    force: true\n", []string{"line 4", "mirrors[0].force", "direction both"}},
		{"releases word", "target: a/b\nreleases: all\n", []string{"line 2", "releases", "true or false", `"all"`}},
		{"lfs word", "target: a/b\nlfs: maybe\n", []string{"line 2", "lfs", `"maybe"`, "true", "false", "required"}},
		{"lfs list", "target: a/b\nlfs: [true]\n", []string{"line 2", "lfs", "a list"}},
		{"force word", "target: a/b\nforce: yes\n", []string{"line 2", "force", "true or false", `"yes"`}},
		{"prune list", "target: a/b\nprune: []\n", []string{"prune", "true or false", "a list"}},
		{"create-missing", "target: a/b\ncreate-missing: 1\n", []string{"create-missing", "true or false"}},
		{"visibility", "target: a/b\nvisibility: internal\n", []string{"visibility", "private, public, or source", `"internal"`}},
		{"branches false", "target: a/b\nbranches: false\n", []string{"branches", "list of globs"}},
		{"branches mapping", "target: a/b\nbranches: {main: 1}\n", []string{"branches", "a mapping"}},
		{"bad glob", "target: a/b\nbranches: [\"[main\"]\n", []string{"branches", `"[main"`, "not a valid glob"}},
		{"bare bang", "target: a/b\ntags: \"v*, !\"\n", []string{"tags", "excludes nothing"}},
		{"duplicate key", "target: a/b\nforce: true\nforce: false\n", []string{"line 3", "force", "twice"}},
		{"key beside mirrors", "force: true\nmirrors:\n  - target: a/b\n", []string{"line 1", "force", "inside each entry"}},
		{"mirrors not list", "mirrors: a/b\n", []string{"mirrors", "list of mirrors"}},
		{"entry not mapping", "mirrors:\n  - a/b\n", []string{"line 2", "mirrors[0]", "mapping"}},
		{"entry field", "mirrors:\n  - target: a/b\n  - target: c/d\n    prune: maybe\n", []string{"line 4", "mirrors[1].prune"}},
		{"duplicate target", "mirrors:\n  - target: a/b\n  - target: gitee/A/B\n", []string{"line 3", "mirrors[1].target", "line 2"}},
		{"several problems", "target: a\nforce: x\n", []string{"line 1", "line 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse([]byte(tt.in))
			if err == nil {
				t.Fatalf("Parse = %+v, want an error", got)
			}
			if c := failure.ClassOf(err); c != failure.Invalid {
				t.Errorf("class = %s, want %s", c, failure.Invalid)
			}
			var fe *Error
			if !errors.As(err, &fe) {
				t.Errorf("error %v holds no *Error", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// Problems hands each problem's line, key and advice to the App, which
// shows them on the check run and the status page.
func TestProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []store.ConfigError
	}{
		{"two problems", "target: acme/widget\ndirection: sideways\nforce: yes\n", []store.ConfigError{
			{Line: 2, Key: "direction", Message: `want push (GitHub → Gitee), pull (Gitee → GitHub) or both (two-way), got "sideways"`},
			{Line: 3, Key: "force", Message: `want true or false, got "yes"`},
		}},
		{"yaml syntax", "target: a/b\n\tforce: true\n", []store.ConfigError{
			{Line: 2, Message: "not valid YAML: found a tab character that violates indentation: indent with spaces, not tabs"},
		}},
		{"unknown key in a list", "mirrors:\n  - target: a/b\n    brnaches: main\n", []store.ConfigError{
			{Line: 3, Key: "mirrors[0].brnaches", Message: "unknown key: allowed are " + strings.Join(keys, ", ")},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tt.in))
			if got := Problems(err); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Problems =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
	if got := Problems(errors.New("network")); got != nil {
		t.Errorf("Problems of another error = %+v, want none", got)
	}
}
