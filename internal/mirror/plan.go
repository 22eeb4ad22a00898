package mirror

import (
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// Answer is the result of an ancestry question; Unknown when the commits
// needed to answer it have not been seen. The rules treat Unknown like No:
// unsure means "do not overwrite".
type Answer int

// Answers.
const (
	Unknown Answer = iota
	Yes
	No
)

// Ancestry answers reachability questions over the source's history.
type Ancestry interface {
	// Reaches reports whether object a is reachable from any of from (a
	// commit reaches itself).
	Reaches(a plumbing.Hash, from []plumbing.Hash) Answer
}

// Ref is one ref as the planner sees it: its value on each side (zero hash
// when absent) and the commit our last sync wrote to the target (zero when
// none is recorded).
type Ref struct {
	Name         string
	Source       plumbing.Hash
	Target       plumbing.Hash
	Last         plumbing.Hash
	TargetPeeled plumbing.Hash // commit an annotated target tag points at
}

// Policy is what the person allowed.
type Policy struct {
	Force bool
	Prune bool
	// TwoWay makes the source and the target peers (DESIGN.md's two-way
	// table): a change on either side is carried to the other, and a ref
	// changed on both sides since the last sync is a conflict.
	TwoWay bool
}

// Side names the side a step writes. One-way steps always write the target;
// two-way steps write either.
type Side string

// Sides of a mirror.
const (
	SideTarget Side = "target"
	SideSource Side = "source"
)

// Step is the plan for one ref.
type Step struct {
	Ref
	Action  Action
	Write   Side    // the side the step writes; SideTarget in one-way plans
	Backup  bool    // back up the written side's old value before writing
	Outcome Outcome // outcome if the step is not executed or needs none
	Reason  string  // for a person: why this action
}

// Plan decides, per ref, what a one-way sync does. It is a pure function of
// the refs on both sides, the last-synced state, the policy and the answers
// to ancestry questions. sources lists every source tip in scope (the
// candidates for "reachable from a source ref").
//
// The rules are DESIGN.md's one-way table, or with pol.TwoWay its two-way
// table (see planTwoWay), where Source and Target are peers.
func Plan(refs []Ref, sources []plumbing.Hash, pol Policy, anc Ancestry) []Step {
	steps := make([]Step, 0, len(refs))
	for _, r := range refs {
		steps = append(steps, planRef(r, sources, pol, anc))
	}
	sort.Slice(steps, func(i, j int) bool { return steps[i].Name < steps[j].Name })
	return steps
}

func planRef(r Ref, sources []plumbing.Hash, pol Policy, anc Ancestry) Step {
	st := Step{Ref: r, Write: SideTarget}
	switch {
	case pol.TwoWay:
		planTwoWay(&st, pol, anc)
	case r.Source.IsZero() && r.Target.IsZero():
		st.Action, st.Outcome = ActNone, Unchanged
	case r.Source == r.Target:
		st.Action, st.Outcome = ActNone, Unchanged
	case r.Target.IsZero():
		st.Action, st.Reason = ActCreate, "new on the source"
	case r.Source.IsZero():
		planPrune(&st, sources, pol, anc)
	case isTag(r.Name):
		planMovedTag(&st, pol)
	default:
		planBranch(&st, pol, anc)
	}
	return st
}

func planBranch(st *Step, pol Policy, anc Ancestry) {
	switch {
	case anc.Reaches(st.Target, []plumbing.Hash{st.Source}) == Yes:
		st.Action, st.Reason = ActUpdate, "fast-forward"
	case !st.Last.IsZero() && st.Target == st.Last:
		st.Action, st.Backup = ActOverwrite, true
		st.Reason = "the source was rewritten (force-pushed) and the target still has what we last synced"
	case pol.Force:
		st.Action, st.Backup = ActOverwrite, true
		st.Reason = "diverged; overwritten because force is on"
	default:
		st.Action, st.Outcome = ActSkip, Diverged
		st.Reason = "the target has commits the source does not: not overwritten. " +
			"Merge them into the source, or run with force to overwrite (the old target tip is kept under refs/mirror-backup/)"
	}
}

func planMovedTag(st *Step, pol Policy) {
	switch {
	case !st.Last.IsZero() && st.Target == st.Last:
		st.Action, st.Backup = ActOverwrite, true
		st.Reason = "the tag was moved on the source and the target still has what we last synced"
	case pol.Force:
		st.Action, st.Backup = ActOverwrite, true
		st.Reason = "the tag points elsewhere on the target; overwritten because force is on"
	default:
		st.Action, st.Outcome = ActSkip, Diverged
		st.Reason = "the tag points elsewhere on the target: not moved. " +
			"Delete it on the target, or run with force to overwrite (the old tag is kept under refs/mirror-backup/)"
	}
}

func planPrune(st *Step, sources []plumbing.Hash, pol Policy, anc Ancestry) {
	if !pol.Prune {
		st.Action, st.Outcome = ActSkip, Kept
		st.Reason = "only on the target; kept because prune is off"
		return
	}
	tip := st.Target
	if !st.TargetPeeled.IsZero() {
		tip = st.TargetPeeled
	}
	switch {
	case anc.Reaches(tip, sources) == Yes:
		st.Action, st.Reason = ActDelete, "deleted on the source; its commits are still on source refs"
	case pol.Force:
		st.Action, st.Backup = ActDelete, true
		st.Reason = "deleted on the source; its commits are kept under refs/mirror-backup/ because force is on"
	default:
		st.Action, st.Outcome = ActSkip, Kept
		st.Reason = "deleted on the source, but the target's commits are on no source ref: kept so nothing is lost. " +
			"Delete it on the target by hand, or run with force (a backup ref is kept)"
	}
}

func isTag(ref string) bool { return strings.HasPrefix(ref, tagsPrefix) }

// questions records the ancestry questions a plan asks, answering Unknown.
type questions struct{ asked []question }

type question struct {
	target plumbing.Hash
	from   []plumbing.Hash
}

func (q *questions) Reaches(a plumbing.Hash, from []plumbing.Hash) Answer {
	q.asked = append(q.asked, question{target: a, from: from})
	return Unknown
}
