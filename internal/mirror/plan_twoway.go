package mirror

import "github.com/go-git/go-git/v5/plumbing"

// planTwoWay is DESIGN.md's two-way table for one ref: Source and Target
// are the peers A and B, Last is L, the value both sides last agreed on
// (zero when no state is kept for the ref). A side whose value is still L
// did not move since the last sync, so the other side's change wins; when
// both moved, only a fast-forward is taken, anything else is a conflict
// that touches neither side. Every overwrite and delete keeps the old value
// under refs/mirror-backup/ unless it is known to be contained in the new
// one, and every Unknown answer counts as "not contained": nothing is lost.
//
// Without state (Last zero) this only creates and fast-forwards: a deletion
// cannot be told from a creation on the other side, so it never deletes.
func planTwoWay(st *Step, pol Policy, anc Ancestry) {
	a, b, l := st.Source, st.Target, st.Last
	switch {
	case a == b:
		st.Action, st.Outcome = ActNone, Unchanged
	case b.IsZero():
		planOneSided(st, SideSource, a, l, pol)
	case a.IsZero():
		planOneSided(st, SideTarget, b, l, pol)
	case l == b:
		planMovedOnce(st, SideTarget, a, b, anc) // A moved, B did not
	case l == a:
		planMovedOnce(st, SideSource, b, a, anc) // B moved, A did not
	case isTag(st.Name):
		planConflict(st, "the tag points at different objects on the two sides, and not only one side moved it since the last sync")
	case anc.Reaches(a, []plumbing.Hash{b}) == Yes:
		st.Action, st.Write = ActUpdate, SideSource
		st.Reason = "changed on both sides; the target's commit contains the source's: fast-forwarded the source"
	case anc.Reaches(b, []plumbing.Hash{a}) == Yes:
		st.Action, st.Write = ActUpdate, SideTarget
		st.Reason = "changed on both sides; the source's commit contains the target's: fast-forwarded the target"
	default:
		planConflict(st, "changed on both sides since the last sync, and neither commit contains the other")
	}
}

// planOneSided handles a ref present on one side only (value v on side
// has). other is the side that lacks it.
func planOneSided(st *Step, has Side, v, l plumbing.Hash, pol Policy) {
	other := otherSide(has)
	switch {
	case l.IsZero():
		st.Action, st.Write = ActCreate, other
		st.Reason = "new on the " + string(has)
	case l != v:
		st.Action, st.Write = ActCreate, other
		st.Reason = "moved on the " + string(has) + " and deleted on the " + string(other) +
			" since the last sync: re-created on the " + string(other) + " so that the new commits are not lost"
	case pol.Prune:
		st.Action, st.Write, st.Backup = ActDelete, has, true
		st.Reason = "deleted on the " + string(other) + " and unchanged on the " + string(has) +
			" since the last sync: deleted there too (the old tip is kept under refs/mirror-backup/)"
	default:
		st.Action, st.Outcome = ActSkip, Kept
		st.Reason = "deleted on the " + string(other) + " since the last sync; kept on the " + string(has) + " because prune is off"
	}
}

// planMovedOnce handles a ref that moved from L to n on one side while the
// side to write still holds old = L.
func planMovedOnce(st *Step, write Side, n, old plumbing.Hash, anc Ancestry) {
	st.Write = write
	from := otherSide(write)
	switch {
	case isTag(st.Name):
		st.Action, st.Backup = ActOverwrite, true
		st.Reason = "the tag was moved on the " + string(from) + " since the last sync and the " + string(write) +
			" still has the old one: moved (the old tag is kept under refs/mirror-backup/)"
	case anc.Reaches(old, []plumbing.Hash{n}) == Yes:
		st.Action = ActUpdate
		st.Reason = "fast-forward from the " + string(from)
	default:
		st.Action, st.Backup = ActOverwrite, true
		st.Reason = "rewritten (force-pushed) on the " + string(from) + " since the last sync and unchanged on the " + string(write) +
			": overwritten (the old tip is kept under refs/mirror-backup/)"
	}
}

func planConflict(st *Step, why string) {
	st.Action, st.Outcome = ActSkip, Conflict
	st.Reason = why + ": nothing was changed on either side. " +
		"To resolve, make both sides equal: merge or rebase one side's commit onto the other's and push the result to both, " +
		"or push the commit you want to keep to the other side with --force; the next sync then sees them equal"
}

func otherSide(s Side) Side {
	if s == SideSource {
		return SideTarget
	}
	return SideSource
}

// writes reports whether a step changes a ref.
func writes(st Step) bool {
	switch st.Action {
	case ActCreate, ActUpdate, ActOverwrite, ActDelete:
		return true
	}
	return false
}
