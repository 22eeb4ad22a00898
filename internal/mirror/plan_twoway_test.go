package mirror

import (
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

// TestPlanTwoWay covers every row of DESIGN.md's two-way table, for
// branches and for tags, with state (Last set) and without.
func TestPlanTwoWay(t *testing.T) {
	t.Parallel()
	const br, tag = "refs/heads/main", "refs/tags/v1"
	type want struct {
		action Action
		write  Side // only checked when the step writes
		backup bool
		out    Outcome
	}
	tests := []struct {
		name string
		ref  Ref
		pol  Policy
		anc  fakeAncestry
		want want
	}{
		// a | a | any: nothing.
		{name: "branch equal, no state", ref: Ref{Name: br, Source: h("a"), Target: h("a")}, want: want{action: ActNone, out: Unchanged}},
		{name: "branch equal, other state", ref: Ref{Name: br, Source: h("a"), Target: h("a"), Last: h("c")}, want: want{action: ActNone, out: Unchanged}},
		{name: "tag equal, with state", ref: Ref{Name: tag, Source: h("a"), Target: h("a"), Last: h("a")}, want: want{action: ActNone, out: Unchanged}},

		// a | b | b: A moved, B := a.
		{name: "branch moved on source, fast-forward", ref: Ref{Name: br, Source: h("b"), Target: h("a"), Last: h("a")}, anc: fakeAncestry{"a<b"},
			want: want{action: ActUpdate, write: SideTarget}},
		{name: "branch rewritten on source: back up and overwrite target", ref: Ref{Name: br, Source: h("b"), Target: h("a"), Last: h("a")},
			want: want{action: ActOverwrite, write: SideTarget, backup: true}},
		{name: "branch moved on source, ancestry unknown: backed up", ref: Ref{Name: br, Source: h("b"), Target: h("a"), Last: h("a")}, anc: fakeAncestry{"a?b"},
			want: want{action: ActOverwrite, write: SideTarget, backup: true}},
		{name: "branch moved on target, fast-forward the source", ref: Ref{Name: br, Source: h("a"), Target: h("b"), Last: h("a")}, anc: fakeAncestry{"a<b"},
			want: want{action: ActUpdate, write: SideSource}},
		{name: "branch rewritten on target: back up and overwrite source", ref: Ref{Name: br, Source: h("a"), Target: h("b"), Last: h("a")},
			want: want{action: ActOverwrite, write: SideSource, backup: true}},
		{name: "tag moved on source: back up and move on target", ref: Ref{Name: tag, Source: h("b"), Target: h("a"), Last: h("a")}, anc: fakeAncestry{"a<b"},
			want: want{action: ActOverwrite, write: SideTarget, backup: true}},
		{name: "tag moved on target: back up and move on source", ref: Ref{Name: tag, Source: h("a"), Target: h("b"), Last: h("a")},
			want: want{action: ActOverwrite, write: SideSource, backup: true}},

		// a | b | neither: both moved.
		{name: "branch both moved, target contains source: fast-forward source", ref: Ref{Name: br, Source: h("a"), Target: h("b"), Last: h("c")}, anc: fakeAncestry{"a<b"},
			want: want{action: ActUpdate, write: SideSource}},
		{name: "branch both moved, source contains target: fast-forward target", ref: Ref{Name: br, Source: h("b"), Target: h("a"), Last: h("c")}, anc: fakeAncestry{"a<b"},
			want: want{action: ActUpdate, write: SideTarget}},
		{name: "branch both moved, diverged: conflict", ref: Ref{Name: br, Source: h("a"), Target: h("b"), Last: h("c")},
			want: want{action: ActSkip, out: Conflict}},
		{name: "branch both moved, unknown: conflict", ref: Ref{Name: br, Source: h("a"), Target: h("b"), Last: h("c")}, anc: fakeAncestry{"a?b", "b?a"},
			want: want{action: ActSkip, out: Conflict}},
		{name: "branch differs, no state, fast-forward target", ref: Ref{Name: br, Source: h("b"), Target: h("a")}, anc: fakeAncestry{"a<b"},
			want: want{action: ActUpdate, write: SideTarget}},
		{name: "branch differs, no state, fast-forward source", ref: Ref{Name: br, Source: h("a"), Target: h("b")}, anc: fakeAncestry{"a<b"},
			want: want{action: ActUpdate, write: SideSource}},
		{name: "branch differs, no state, diverged: conflict, no overwrite", ref: Ref{Name: br, Source: h("a"), Target: h("b")},
			want: want{action: ActSkip, out: Conflict}},
		{name: "branch differs, force does not make two-way overwrite", ref: Ref{Name: br, Source: h("a"), Target: h("b")}, pol: Policy{Force: true},
			want: want{action: ActSkip, out: Conflict}},
		{name: "tag both moved: conflict even if fast-forward", ref: Ref{Name: tag, Source: h("b"), Target: h("a"), Last: h("c")}, anc: fakeAncestry{"a<b"},
			want: want{action: ActSkip, out: Conflict}},
		{name: "tag differs, no state: conflict", ref: Ref{Name: tag, Source: h("b"), Target: h("a")}, anc: fakeAncestry{"a<b"},
			want: want{action: ActSkip, out: Conflict}},

		// a | absent | a: deleted on B, delete on A (with backup).
		{name: "branch deleted on target, unchanged on source: delete source", ref: Ref{Name: br, Source: h("a"), Last: h("a")}, pol: Policy{Prune: true},
			want: want{action: ActDelete, write: SideSource, backup: true}},
		{name: "branch deleted on source, unchanged on target: delete target", ref: Ref{Name: br, Target: h("a"), Last: h("a")}, pol: Policy{Prune: true},
			want: want{action: ActDelete, write: SideTarget, backup: true}},
		{name: "tag deleted on target: delete source", ref: Ref{Name: tag, Source: h("a"), Last: h("a")}, pol: Policy{Prune: true},
			want: want{action: ActDelete, write: SideSource, backup: true}},
		{name: "tag deleted on source: delete target", ref: Ref{Name: tag, Target: h("a"), Last: h("a")}, pol: Policy{Prune: true},
			want: want{action: ActDelete, write: SideTarget, backup: true}},
		{name: "branch deleted on one side, prune off: kept", ref: Ref{Name: br, Source: h("a"), Last: h("a")},
			want: want{action: ActSkip, out: Kept}},
		{name: "tag deleted on one side, prune off: kept", ref: Ref{Name: tag, Target: h("a"), Last: h("a")},
			want: want{action: ActSkip, out: Kept}},

		// a | absent | not a: moved on A, deleted on B → re-create.
		{name: "branch moved on source, deleted on target: re-created", ref: Ref{Name: br, Source: h("b"), Last: h("a")}, pol: Policy{Prune: true}, anc: fakeAncestry{"a<b"},
			want: want{action: ActCreate, write: SideTarget}},
		{name: "branch moved on target, deleted on source: re-created", ref: Ref{Name: br, Target: h("b"), Last: h("a")}, pol: Policy{Prune: true},
			want: want{action: ActCreate, write: SideSource}},
		{name: "tag moved on source, deleted on target: re-created", ref: Ref{Name: tag, Source: h("b"), Last: h("a")}, pol: Policy{Prune: true},
			want: want{action: ActCreate, write: SideTarget}},
		{name: "tag moved on target, deleted on source: re-created", ref: Ref{Name: tag, Target: h("b"), Last: h("a")},
			want: want{action: ActCreate, write: SideSource}},

		// a | absent | none: created on A → create on B; without state never delete.
		{name: "branch new on source", ref: Ref{Name: br, Source: h("a")}, pol: Policy{Prune: true}, want: want{action: ActCreate, write: SideTarget}},
		{name: "branch new on target", ref: Ref{Name: br, Target: h("a")}, pol: Policy{Prune: true}, want: want{action: ActCreate, write: SideSource}},
		{name: "tag new on source", ref: Ref{Name: tag, Source: h("a")}, want: want{action: ActCreate, write: SideTarget}},
		{name: "tag new on target", ref: Ref{Name: tag, Target: h("a")}, pol: Policy{Prune: true}, want: want{action: ActCreate, write: SideSource}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pol := tt.pol
			pol.TwoWay = true
			steps := Plan([]Ref{tt.ref}, nil, pol, tt.anc)
			if len(steps) != 1 {
				t.Fatalf("got %d steps, want 1", len(steps))
			}
			st := steps[0]
			if got, want := st.Action, tt.want.action; got != want {
				t.Errorf("action = %q, want %q (reason %q)", got, want, st.Reason)
			}
			if writes(st) {
				if got, want := st.Write, tt.want.write; got != want {
					t.Errorf("writes the %s, want the %s (reason %q)", got, want, st.Reason)
				}
			}
			if got, want := st.Backup, tt.want.backup; got != want {
				t.Errorf("backup = %v, want %v", got, want)
			}
			if got, want := st.Outcome, tt.want.out; got != want {
				t.Errorf("outcome = %q, want %q", got, want)
			}
			if st.Action != ActNone && st.Reason == "" {
				t.Errorf("no reason given for %q", st.Action)
			}
		})
	}
}

// TestPlanTwoWayNeverLoses checks, over every combination of values and
// answers, the rules that make two-way sync lossless: nothing is deleted
// without state, nothing is overwritten unless it is contained in the new
// value or backed up, and a conflict writes nothing.
func TestPlanTwoWayNeverLoses(t *testing.T) {
	t.Parallel()
	vals := []plumbing.Hash{{}, h("a"), h("b"), h("c")}
	ancs := []fakeAncestry{nil, {"a<b"}, {"b<a"}, {"a?b", "b?a"}, {"a<b", "c<a", "c<b"}}
	for _, name := range []string{"refs/heads/x", "refs/tags/x"} {
		for _, a := range vals {
			for _, b := range vals {
				for _, l := range vals {
					for _, anc := range ancs {
						for _, prune := range []bool{false, true} {
							r := Ref{Name: name, Source: a, Target: b, Last: l}
							st := Plan([]Ref{r}, nil, Policy{TwoWay: true, Prune: prune}, anc)[0]
							checkLossless(t, st, anc, prune)
						}
					}
				}
			}
		}
	}
}

func checkLossless(t *testing.T, st Step, anc fakeAncestry, prune bool) {
	t.Helper()
	if !writes(st) {
		return
	}
	old, nw := st.Target, st.Source
	if st.Write == SideSource {
		old, nw = st.Source, st.Target
	}
	switch {
	case st.Action == ActDelete && (st.Last.IsZero() || !prune):
		t.Errorf("%+v: deleted without state or prune", st)
	case st.Action == ActDelete && st.Last != old:
		t.Errorf("%+v: deleted a value that moved since the last sync", st)
	case old.IsZero() && st.Action != ActCreate:
		t.Errorf("%+v: writes an absent ref with %q", st, st.Action)
	case !old.IsZero() && !st.Backup && (isTag(st.Name) || anc.Reaches(old, []plumbing.Hash{nw}) != Yes):
		t.Errorf("%+v: overwrites a value not contained in the new one without a backup", st)
	case !old.IsZero() && old != st.Last && st.Action != ActUpdate:
		t.Errorf("%+v: rewrites a side that moved since the last sync", st)
	}
}
