package actioncmd

import (
	"fmt"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// unmatchedFilters returns a warning for each branch or tag glob that
// selects no ref of the source: most often a typo, which would otherwise
// mirror nothing and still exit 0. Exclusions ("!…") are not checked: one
// that matches nothing loses nothing.
func unmatchedFilters(opts mirror.Options, res *mirror.Result) []string {
	var out []string
	check := func(input, prefix, what string, globs []string) {
		for _, g := range globs {
			if strings.HasPrefix(g, "!") {
				continue
			}
			f, err := mirror.NewFilter([]string{g})
			if err != nil {
				continue // refused at input already
			}
			found := false
			for _, r := range res.Refs {
				name, ok := strings.CutPrefix(r.Ref, prefix)
				if ok && r.Source != "" && f.Match(name) {
					found = true
					break
				}
			}
			if !found {
				out = append(out, fmt.Sprintf("%s: %q selects no %s of the source; check the name (globs: * within a path segment, ** across)", input, g, what))
			}
		}
	}
	check(inBranches, "refs/heads/", "branch", opts.Branches)
	if !opts.NoTags {
		check(inTags, "refs/tags/", "tag", opts.Tags)
	}
	return out
}
