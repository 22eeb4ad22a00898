package jobs

import (
	"fmt"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// Conflict is a ref of a two-way mirror that changed on both sides since
// the last sync: nothing was written to either side. It says what each
// side holds and the commands that resolve it, for the check run and the
// mirror's page.
type Conflict struct {
	Ref string
	A   string // side A's (GitHub's) commit
	B   string // side B's (Gitee's) commit
	// KeepA makes side B hold side A's commit; KeepB the other way. Empty
	// when a name could break out of the code the pages show it in.
	KeepA, KeepB string
}

// ResolveAdvice ends every list of conflicts.
const ResolveAdvice = "Or merge the two commits and push the merge to both sides. " +
	"Once both sides hold the same commit, the next sync records it and carries on."

// Conflicts lists the refs in conflict among refs, with the commands that
// resolve them; aURL and bURL are the sides' Git URLs, without
// credentials.
func Conflicts(refs []mirror.RefResult, aURL, bURL string) []Conflict {
	var out []Conflict
	for _, r := range refs {
		if r.Outcome != mirror.Conflict {
			continue
		}
		out = append(out, Conflict{Ref: r.Ref, A: r.Source, B: r.Target,
			KeepA: keepCommand(r.Ref, aURL, bURL), KeepB: keepCommand(r.Ref, bURL, aURL)})
	}
	return out
}

// keepCommand is the git command that gives to's ref the commit from has.
// Force is what it takes: the other side's commit stays reachable only if a
// person merged it first, which is why the page offers the merge too.
func keepCommand(ref, from, to string) string {
	if strings.ContainsAny(ref+from+to, "`\n\r<>&\"'| ") {
		return ""
	}
	return fmt.Sprintf("git fetch %s %s && git push --force %s FETCH_HEAD:%s", from, ref, to, ref)
}
