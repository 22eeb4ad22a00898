package jobs

import (
	"fmt"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// maxListed bounds how many refs a message names.
const maxListed = 5

// verdict is what one sync amounted to.
type verdict struct {
	outcome store.Outcome
	status  store.Status  // what the mirror's status becomes
	class   failure.Class // "" when ok
	message string        // for a person; never a secret
	err     error         // non-nil when failed: the cause, classified
}

// judge reads a sync's result. A sync error fails the run; so does a ref the
// target refused or that could not be synced (a push refused for the missing
// workflows permission is such a ref: its message says exactly that);
// diverged refs leave it diverged; anything else is ok.
func judge(res *mirror.Result, err error) verdict {
	if err != nil {
		return verdict{outcome: store.OutcomeFailed, status: store.StatusFailing, class: failure.ClassOf(err), message: err.Error(), err: err}
	}
	if res == nil {
		return verdict{outcome: store.OutcomeOK, status: store.StatusInSync}
	}
	var bad, diverged, conflicts []mirror.RefResult
	for _, r := range res.Refs {
		switch r.Outcome {
		case mirror.Rejected, mirror.Failed:
			bad = append(bad, r)
		case mirror.Diverged:
			diverged = append(diverged, r)
		case mirror.Conflict:
			conflicts = append(conflicts, r)
		}
	}
	if len(bad) > 0 {
		first := bad[0]
		for _, r := range bad {
			if r.Class == failure.Permission {
				first = r // the likeliest to need a person: say it first
				break
			}
		}
		class := first.Class
		if class == "" {
			class = failure.Rejected
		}
		msg := first.Ref + ": " + string(first.Outcome)
		if first.Message != "" {
			msg = first.Ref + ": " + first.Message
		}
		if n := len(bad) - 1; n > 0 {
			msg += fmt.Sprintf(" (and %d more %s not synced)", n, plural(n, "ref", "refs"))
		}
		return verdict{outcome: store.OutcomeFailed, status: store.StatusFailing, class: class, message: msg, err: &failure.Error{Class: class, Message: msg}}
	}
	if len(conflicts) > 0 {
		// A conflict is a two-way mirror's diverged ref: nothing lost,
		// nothing written, a person decides.
		msg := fmt.Sprintf("%d %s changed on both sides since the last sync (conflict) and %s left alone on both: %s "+
			"(the mirror's page and the check run give both commits and the commands that resolve them)",
			len(conflicts), plural(len(conflicts), "ref", "refs"), plural(len(conflicts), "was", "were"), listRefs(conflicts))
		return verdict{outcome: store.OutcomeDiverged, status: store.StatusDiverged, class: failure.Diverged, message: msg}
	}
	if len(diverged) > 0 {
		msg := fmt.Sprintf("%d %s diverged on the target and %s left alone: %s (set force: true to overwrite them after a backup)",
			len(diverged), plural(len(diverged), "ref", "refs"), plural(len(diverged), "was", "were"), listRefs(diverged))
		return verdict{outcome: store.OutcomeDiverged, status: store.StatusDiverged, class: failure.Diverged, message: msg}
	}
	if l := res.LFS; !l.Complete() {
		// The refs are mirrored but the mirror is incomplete, as with a
		// diverged ref: a person decides (LFS storage on the target).
		class := l.Class
		if class == "" {
			class = failure.Rejected
		}
		msg := fmt.Sprintf("%d Git LFS %s (%d bytes) %s not on the target: %s", l.Missing, plural(l.Missing, "object", "objects"),
			l.MissingBytes, plural(l.Missing, "is", "are"), l.Reason)
		return verdict{outcome: store.OutcomeDiverged, status: store.StatusDiverged, class: class, message: msg}
	}
	return verdict{outcome: store.OutcomeOK, status: store.StatusInSync}
}

// listRefs names the first maxListed refs.
func listRefs(refs []mirror.RefResult) string {
	names := make([]string, 0, maxListed+1)
	for i, r := range refs {
		if i == maxListed {
			names = append(names, fmt.Sprintf("and %d more", len(refs)-maxListed))
			break
		}
		names = append(names, r.Ref)
	}
	return strings.Join(names, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
