package mirror

import (
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

// h makes a readable fake object id: h("a") = aaaa…a.
func h(c string) plumbing.Hash {
	if c == "" {
		return plumbing.ZeroHash
	}
	return plumbing.NewHash(strings.Repeat(c, 40))
}

// fakeAncestry answers "x reachable from y" from a list of "x<y" facts;
// anything not listed is No, or Unknown when listed as "x?y".
type fakeAncestry []string

func (f fakeAncestry) Reaches(a plumbing.Hash, from []plumbing.Hash) Answer {
	for _, fact := range f {
		for _, b := range from {
			switch fact {
			case a.String()[:1] + "<" + b.String()[:1]:
				return Yes
			case a.String()[:1] + "?" + b.String()[:1]:
				return Unknown
			}
		}
	}
	return No
}

func TestPlanOneWay(t *testing.T) {
	t.Parallel()
	const br, tag = "refs/heads/main", "refs/tags/v1"
	tests := []struct {
		name       string
		ref        Ref
		pol        Policy
		anc        fakeAncestry
		sources    []plumbing.Hash
		wantAction Action
		wantBackup bool
		wantOut    Outcome
	}{
		{name: "same on both sides", ref: Ref{Name: br, Source: h("a"), Target: h("a")}, wantAction: ActNone, wantOut: Unchanged},
		{name: "absent on target: create", ref: Ref{Name: br, Source: h("a")}, wantAction: ActCreate},
		{name: "target behind: fast-forward", ref: Ref{Name: br, Source: h("b"), Target: h("a")}, anc: fakeAncestry{"a<b"}, wantAction: ActUpdate},
		{name: "target is last synced, source rewritten: backup and overwrite", ref: Ref{Name: br, Source: h("b"), Target: h("a"), Last: h("a")}, wantAction: ActOverwrite, wantBackup: true},
		{name: "last synced but ancestry unknown: still backed up", ref: Ref{Name: br, Source: h("b"), Target: h("a"), Last: h("a")}, anc: fakeAncestry{"a?b"}, wantAction: ActOverwrite, wantBackup: true},
		{name: "diverged: skip", ref: Ref{Name: br, Source: h("b"), Target: h("c")}, wantAction: ActSkip, wantOut: Diverged},
		{name: "diverged, target moved since last sync: skip", ref: Ref{Name: br, Source: h("b"), Target: h("c"), Last: h("a")}, wantAction: ActSkip, wantOut: Diverged},
		{name: "unknown ancestry counts as diverged", ref: Ref{Name: br, Source: h("b"), Target: h("c")}, anc: fakeAncestry{"c?b"}, wantAction: ActSkip, wantOut: Diverged},
		{name: "diverged with force: backup and overwrite", ref: Ref{Name: br, Source: h("b"), Target: h("c")}, pol: Policy{Force: true}, wantAction: ActOverwrite, wantBackup: true},
		{name: "target ahead of source: diverged", ref: Ref{Name: br, Source: h("a"), Target: h("b")}, anc: fakeAncestry{"a<b"}, wantAction: ActSkip, wantOut: Diverged},
		{name: "target only, no prune: kept", ref: Ref{Name: br, Target: h("a")}, sources: []plumbing.Hash{h("b")}, anc: fakeAncestry{"a<b"}, wantAction: ActSkip, wantOut: Kept},
		{name: "prune, reachable from a source ref: delete", ref: Ref{Name: br, Target: h("a")}, pol: Policy{Prune: true}, sources: []plumbing.Hash{h("b")}, anc: fakeAncestry{"a<b"}, wantAction: ActDelete},
		{name: "prune, not reachable: kept", ref: Ref{Name: br, Target: h("a")}, pol: Policy{Prune: true}, sources: []plumbing.Hash{h("b")}, wantAction: ActSkip, wantOut: Kept},
		{name: "prune, unknown: kept", ref: Ref{Name: br, Target: h("a")}, pol: Policy{Prune: true}, sources: []plumbing.Hash{h("b")}, anc: fakeAncestry{"a?b"}, wantAction: ActSkip, wantOut: Kept},
		{name: "prune+force, not reachable: backup and delete", ref: Ref{Name: br, Target: h("a")}, pol: Policy{Prune: true, Force: true}, sources: []plumbing.Hash{h("b")}, wantAction: ActDelete, wantBackup: true},
		{name: "prune+force, reachable: delete without backup", ref: Ref{Name: br, Target: h("a")}, pol: Policy{Prune: true, Force: true}, sources: []plumbing.Hash{h("b")}, anc: fakeAncestry{"a<b"}, wantAction: ActDelete},
		{name: "prune of annotated tag judged by the commit it points at", ref: Ref{Name: tag, Target: h("e"), TargetPeeled: h("a")}, pol: Policy{Prune: true}, sources: []plumbing.Hash{h("b")}, anc: fakeAncestry{"a<b"}, wantAction: ActDelete},
		{name: "tag created", ref: Ref{Name: tag, Source: h("a")}, wantAction: ActCreate},
		{name: "tag moved: diverged even if fast-forward", ref: Ref{Name: tag, Source: h("b"), Target: h("a")}, anc: fakeAncestry{"a<b"}, wantAction: ActSkip, wantOut: Diverged},
		{name: "tag moved with force: backup and overwrite", ref: Ref{Name: tag, Source: h("b"), Target: h("a")}, pol: Policy{Force: true}, wantAction: ActOverwrite, wantBackup: true},
		{name: "tag moved on source, target is last synced: backup and overwrite", ref: Ref{Name: tag, Source: h("b"), Target: h("a"), Last: h("a")}, wantAction: ActOverwrite, wantBackup: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			steps := Plan([]Ref{tt.ref}, tt.sources, tt.pol, tt.anc)
			if len(steps) != 1 {
				t.Fatalf("got %d steps, want 1", len(steps))
			}
			st := steps[0]
			if got, want := st.Action, tt.wantAction; got != want {
				t.Errorf("action = %q, want %q (reason %q)", got, want, st.Reason)
			}
			if got, want := st.Backup, tt.wantBackup; got != want {
				t.Errorf("backup = %v, want %v", got, want)
			}
			if got, want := st.Outcome, tt.wantOut; got != want {
				t.Errorf("outcome = %q, want %q", got, want)
			}
			if st.Action != ActNone && st.Reason == "" {
				t.Errorf("no reason given for %q", st.Action)
			}
		})
	}
}

func TestPlanIsSortedAndAsksQuestions(t *testing.T) {
	t.Parallel()
	refs := []Ref{
		{Name: "refs/heads/z", Source: h("b"), Target: h("a")},
		{Name: "refs/heads/a", Source: h("c")},
		{Name: "refs/heads/gone", Target: h("d")},
	}
	q := &questions{}
	steps := Plan(refs, []plumbing.Hash{h("b"), h("c")}, Policy{Prune: true}, q)
	if got, want := steps[0].Name, "refs/heads/a"; got != want {
		t.Errorf("first step = %q, want %q", got, want)
	}
	if got, want := len(q.asked), 2; got != want {
		t.Fatalf("asked %d questions, want %d: %+v", got, want, q.asked)
	}
}
