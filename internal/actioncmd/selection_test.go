package actioncmd

import (
	"reflect"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/forge"
)

// jobView is what a test compares of a job.
type jobView struct {
	Name, Target, Skip string
	Filtered           bool
	Fail               bool
}

func viewJobs(jobs []*job) []jobView {
	out := make([]jobView, len(jobs))
	for i, j := range jobs {
		out[i] = jobView{Name: j.name, Target: j.target, Skip: j.skip, Filtered: j.filtered, Fail: j.fail != ""}
	}
	return out
}

func TestListedJobs(t *testing.T) {
	t.Parallel()
	repos := []*forge.Repo{
		{Name: "web"}, {Name: "API"}, {Name: "fork", Fork: true}, {Name: "old", Archived: true},
		{Name: "empty", Empty: true}, {Name: "old-fork", Fork: true, Archived: true}, {Name: "docs"},
	}
	tests := map[string]struct {
		sel  selection
		want []jobView
	}{
		"defaults skip forks, archived and empty": {
			want: []jobView{
				{Name: "API", Target: "API"},
				{Name: "docs", Target: "docs"},
				{Name: "empty", Target: "empty", Skip: skipEmpty},
				{Name: "fork", Target: "fork", Skip: skipFork},
				{Name: "old", Target: "old", Skip: skipArchived},
				{Name: "old-fork", Target: "old-fork", Skip: skipFork},
				{Name: "web", Target: "web"},
			},
		},
		"forks and archived asked for": {
			sel: selection{forks: true, archived: true, include: []string{"*old*", "fork"}},
			want: []jobView{
				{Name: "API", Target: "API", Skip: skipNotIncluded, Filtered: true},
				{Name: "docs", Target: "docs", Skip: skipNotIncluded, Filtered: true},
				{Name: "empty", Target: "empty", Skip: skipNotIncluded, Filtered: true},
				{Name: "fork", Target: "fork"},
				{Name: "old", Target: "old"},
				{Name: "old-fork", Target: "old-fork"},
				{Name: "web", Target: "web", Skip: skipNotIncluded, Filtered: true},
			},
		},
		"exclude wins over include, any case": {
			sel: selection{include: []string{"api", "web", "d*"}, exclude: []string{"web", "docs"}},
			want: []jobView{
				{Name: "API", Target: "API"},
				{Name: "docs", Target: "docs", Skip: skipExcluded, Filtered: true},
				{Name: "empty", Target: "empty", Skip: skipNotIncluded, Filtered: true},
				{Name: "fork", Target: "fork", Skip: skipNotIncluded, Filtered: true},
				{Name: "old", Target: "old", Skip: skipNotIncluded, Filtered: true},
				{Name: "old-fork", Target: "old-fork", Skip: skipNotIncluded, Filtered: true},
				{Name: "web", Target: "web", Skip: skipExcluded, Filtered: true},
			},
		},
		"mappings rename; a clash fails the later one": {
			sel: selection{include: []string{"api", "docs", "web"}, mappings: map[string]string{"api": "octo-api", "web": "docs"}},
			want: []jobView{
				{Name: "API", Target: "octo-api"},
				{Name: "docs", Target: "docs"},
				{Name: "empty", Target: "empty", Skip: skipNotIncluded, Filtered: true},
				{Name: "fork", Target: "fork", Skip: skipNotIncluded, Filtered: true},
				{Name: "old", Target: "old", Skip: skipNotIncluded, Filtered: true},
				{Name: "old-fork", Target: "old-fork", Skip: skipNotIncluded, Filtered: true},
				{Name: "web", Target: "docs", Fail: true},
			},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := viewJobs(tt.sel.listedJobs(repos)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("jobs:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestFixedJobs(t *testing.T) {
	t.Parallel()
	sel := selection{exclude: []string{"tmp*"}, mappings: map[string]string{"b": "bee"}}
	got := viewJobs(sel.fixedJobs([]string{"c", "b", "tmp1"}))
	want := []jobView{
		{Name: "c", Target: "c"},
		{Name: "b", Target: "bee"},
		{Name: "tmp1", Target: "tmp1", Skip: skipExcluded, Filtered: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("jobs:\n got %+v\nwant %+v", got, want)
	}
	if got := sel.unusedMappings(sel.fixedJobs([]string{"c"})); !reflect.DeepEqual(got, []string{"b"}) {
		t.Errorf("unused mappings %q", got)
	}
}

func TestMatchAny(t *testing.T) {
	t.Parallel()
	tests := []struct {
		globs []string
		name  string
		want  bool
	}{
		{[]string{"app"}, "App", true},
		{[]string{"app"}, "app2", false},
		{[]string{"app*"}, "app-web", true},
		{[]string{"?pp"}, "APP", true},
		{[]string{"[a-c]*"}, "docs", false},
		{nil, "x", false},
	}
	for _, tt := range tests {
		if got := matchAny(tt.globs, tt.name); got != tt.want {
			t.Errorf("matchAny(%q, %q) = %v", tt.globs, tt.name, got)
		}
	}
}

func TestDstIndexLookup(t *testing.T) {
	t.Parallel()
	complete := &dstIndex{names: map[string]bool{"app": true}, complete: true}
	partial := &dstIndex{names: map[string]bool{"app": true}}
	tests := []struct {
		idx           *dstIndex
		name          string
		exists, known bool
	}{
		{complete, "App", true, true},
		{complete, "lib", false, true},
		{partial, "app", true, true},
		{partial, "lib", false, false},
		{nil, "app", false, false},
	}
	for _, tt := range tests {
		if exists, known := tt.idx.lookup(tt.name); exists != tt.exists || known != tt.known {
			t.Errorf("lookup(%q) on %+v = %v, %v", tt.name, tt.idx, exists, known)
		}
	}
}
