package actioncmd

import (
	"cmp"
	"log/slog"
	"path"
	"slices"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/forge"
)

// selection decides which repositories of an account are mirrored, and
// under which names.
type selection struct {
	include, exclude []string          // lower-case globs; exclude wins
	mappings         map[string]string // lower-case source name → destination name
	forks, archived  bool              // mirror forks, archived repositories
}

// Why a repository is not mirrored. They appear in the summary and report.
const (
	skipNotIncluded = "not matched by include"
	skipExcluded    = "matched by exclude"
	skipFork        = "fork: set forks: true to mirror forks"
	skipArchived    = "archived: set archived: true to mirror archived repositories"
	skipEmpty       = "empty: the source has no branches or tags yet"
)

// job is one repository of an account-mode run.
type job struct {
	name   string      // source repository name
	target string      // destination repository name
	source *forge.Repo // as listed; nil for a repositories entry until needed
	skip   string      // why it is not mirrored; "" to mirror
	// filtered: skipped by include or exclude. Such repositories are in the
	// report but only counted in the summary, which would drown in them.
	filtered bool
	fail     string       // a problem found before any request, e.g. a name clash
	log      *slog.Logger // the sync's logger; nil: the run's
}

// matchAny reports whether name matches one of the lower-case globs.
func matchAny(globs []string, name string) bool {
	name = strings.ToLower(name)
	for _, g := range globs {
		if ok, _ := path.Match(g, name); ok {
			return true
		}
	}
	return false
}

// filter applies include and exclude to a name.
func (s selection) filter(name string) string {
	switch {
	case matchAny(s.exclude, name):
		return skipExcluded
	case len(s.include) > 0 && !matchAny(s.include, name):
		return skipNotIncluded
	}
	return ""
}

// targetName is where name is mirrored to: its mapping, else the same name.
func (s selection) targetName(name string) string {
	if t, ok := s.mappings[strings.ToLower(name)]; ok {
		return t
	}
	return name
}

// listedJobs turns a listing into jobs, sorted by name. Forks, archived and
// empty repositories are skipped unless asked for.
func (s selection) listedJobs(repos []*forge.Repo) []*job {
	jobs := make([]*job, 0, len(repos))
	for _, r := range repos {
		j := &job{name: r.Name, target: s.targetName(r.Name), source: r}
		switch j.skip = s.filter(r.Name); {
		case j.skip != "":
			j.filtered = true
		case r.Fork && !s.forks:
			j.skip = skipFork
		case r.Archived && !s.archived:
			j.skip = skipArchived
		case r.Empty:
			j.skip = skipEmpty
		}
		jobs = append(jobs, j)
	}
	slices.SortStableFunc(jobs, func(a, b *job) int {
		return cmp.Compare(strings.ToLower(a.name), strings.ToLower(b.name))
	})
	claimTargets(jobs)
	return jobs
}

// fixedJobs turns the repositories input into jobs, in its order. Named
// repositories are mirrored even when they are forks or archived: naming
// one is asking for it. include and exclude still apply.
func (s selection) fixedJobs(names []string) []*job {
	jobs := make([]*job, 0, len(names))
	for _, n := range names {
		j := &job{name: n, target: s.targetName(n), skip: s.filter(n)}
		j.filtered = j.skip != ""
		jobs = append(jobs, j)
	}
	claimTargets(jobs)
	return jobs
}

// claimTargets fails a job whose destination an earlier job already mirrors
// to (e.g. a mapping onto the name of another repository), rather than let
// two sources overwrite each other.
func claimTargets(jobs []*job) {
	owner := map[string]string{}
	for _, j := range jobs {
		if j.skip != "" {
			continue
		}
		key := strings.ToLower(j.target)
		if prev, ok := owner[key]; ok {
			j.fail = "the destination " + j.target + " is already the mirror of " + prev + ": add a mapping for one of them"
			continue
		}
		owner[key] = j.name
	}
}

// unusedMappings lists mapped names that match no repository: most likely a
// typo, worth a warning.
func (s selection) unusedMappings(jobs []*job) []string {
	seen := map[string]bool{}
	for _, j := range jobs {
		seen[strings.ToLower(j.name)] = true
	}
	var out []string
	for k := range s.mappings {
		if !seen[k] {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
