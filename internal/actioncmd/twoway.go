package actioncmd

import (
	"fmt"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// The two-way input: source and destination become peers (DESIGN.md's
// two-way table, mirror.Options.TwoWay). The last-synced state lives in
// cache-path; without it a run only creates and fast-forwards.
const (
	inTwoWay      = "two-way"
	defaultTwoWay = "false"
	outConflicts  = "conflicts"
)

// parseTwoWay reads the two-way input into opts, after force: the two
// cannot go together, as force would have to pick which side loses.
func parseTwoWay(get func(string) string, opts *mirror.Options) error {
	var err error
	if opts.TwoWay, err = boolean(inTwoWay, or(get(inTwoWay), defaultTwoWay)); err != nil {
		return err
	}
	if opts.TwoWay && opts.Force {
		return inputErrorf(inForce, "cannot be used with two-way: a ref changed on both sides is a conflict that a person resolves (the summary says how), never overwritten")
	}
	return nil
}

// outOfSync is the policy under which a kept ref counts as out of sync: with
// prune, or always in a two-way sync, where only equal sides are in sync.
func outOfSync(opts mirror.Options) bool { return opts.Prune || opts.TwoWay }

// conflictGuide lists each conflict with both commits and how to resolve
// it, for the summary (markdown) or the log. src and dst are the two
// repositories' credential-free URLs.
func conflictGuide(res *mirror.Result, src, dst string, markdown bool) string {
	conflicts := res.Conflicts()
	if len(conflicts) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\nConflicts: changed on both sides since the last sync; nothing was written to either side.\n")
	if markdown {
		b.WriteString("\n")
	}
	for i, r := range conflicts {
		if i == maxSummaryRows {
			fmt.Fprintf(&b, "… and %d more: see the report file.\n", len(conflicts)-i)
			break
		}
		line := fmt.Sprintf("%s: source %s, destination %s", r.Ref, r.Source, r.Target)
		if markdown {
			line = "- " + md(line)
		}
		b.WriteString(line + "\n")
		if cmd := keepCommand(r.Ref, src, dst); cmd != "" {
			if markdown {
				fmt.Fprintf(&b, "  - keep the source's: `%s`\n", cmd)
				fmt.Fprintf(&b, "  - keep the destination's: `%s`\n", keepCommand(r.Ref, dst, src))
			} else {
				fmt.Fprintf(&b, "  keep the source's:      %s\n  keep the destination's: %s\n", cmd, keepCommand(r.Ref, dst, src))
			}
		}
	}
	b.WriteString("Or merge the two commits and push the merge to both sides. Once both sides hold the same commit, the next run records it.\n")
	return b.String()
}

// keepCommand is the git command that makes to's ref what from has. Empty
// when a name could break out of a code span.
func keepCommand(ref, from, to string) string {
	if strings.ContainsAny(ref+from+to, "`\n\r") {
		return ""
	}
	return fmt.Sprintf("git fetch %s %s && git push --force %s FETCH_HEAD:%s", from, ref, to, ref)
}
