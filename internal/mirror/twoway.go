package mirror

import (
	"context"
	"log/slog"

	"github.com/go-git/go-git/v5/plumbing"
)

// attemptTwoWay is one round of a two-way sync: one plan over both sides,
// then two legs, each the one-way relay in one direction (a thin pack from
// one side's upload-pack streamed into the other's receive-pack, backups
// first, every update carrying the value it replaces). The legs run one
// after the other; a sync cut between them leaves the first leg's refs equal
// on both sides and the second's as they were, which the next plan sees as
// "moved on one side since the last sync".
func (s *syncer) attemptTwoWay(ctx context.Context, adv sides, refs []Ref, res *Result) (*Result, bool, error) {
	pol := s.policy()
	q := &questions{}
	draft := Plan(refs, nil, pol, q)
	if !needsWork(draft) && len(q.asked) == 0 {
		res.NoOp = true
		res.Refs = append(res.Refs, twoWayResults(draft)...)
		sortResults(res)
		s.log.Info("in sync; nothing to transfer", slog.Int("refs", len(refs)))
		return res, false, nil
	}

	ans := newAnswers(s.graph)
	toB, toA := s.newTransfer(adv, ans), s.reverseTransfer(adv, ans)
	defer toB.cleanup()
	defer toA.cleanup()
	// A question about a commit's place in a side's history is put to that
	// side: the one whose refs hold the tips asked from.
	var askB, askA []question
	onSource := refValues(adv.src.References)
	for _, qu := range q.asked {
		if allIn(qu.from, onSource) {
			askB = append(askB, qu)
		} else {
			askA = append(askA, qu)
		}
	}
	reversed := make([]Ref, len(refs))
	for i, r := range refs {
		reversed[i] = reverseRef(r)
	}
	for _, leg := range []struct {
		tr    *transfer
		refs  []Ref
		asked []question
	}{{toB, refs, askB}, {toA, reversed, askA}} {
		if err := leg.tr.prepare(ctx, leg.refs, leg.asked); err != nil {
			return res, false, err
		}
		if err := leg.tr.resolve(ctx, leg.asked); err != nil {
			return res, false, err
		}
	}

	plan := Plan(refs, nil, pol, ans)
	if s.opts.DryRun {
		out := twoWayResults(plan)
		for i := range out {
			if writes(plan[i]) {
				out[i].Outcome = Planned
			}
		}
		res.Refs = append(res.Refs, out...)
		sortResults(res)
		return res, false, nil
	}
	var writeB, writeA, rest []Step
	for _, st := range plan {
		switch {
		case !writes(st):
			rest = append(rest, st)
		case st.Write == SideSource:
			writeA = append(writeA, reverseStep(st))
		default:
			writeB = append(writeB, st)
		}
	}
	res.Refs = append(res.Refs, twoWayResults(rest)...)
	defer sortResults(res)

	results, backups, movedB, err := s.executeLeg(ctx, toB, writeB)
	for i := range results {
		results[i].Side = SideTarget
	}
	res.Refs = append(res.Refs, results...)
	res.Backups = backups
	res.Bytes = toB.bytes
	if err != nil {
		return res, false, err
	}
	results, backups, movedA, err := s.executeLeg(ctx, toA, writeA)
	for i := range results {
		results[i] = reverseResult(results[i])
	}
	res.Refs = append(res.Refs, results...)
	res.SourceBackups = backups
	res.Bytes += toA.bytes
	return res, movedA || movedB, err
}

// executeLeg runs execute for a leg that has something to write.
func (s *syncer) executeLeg(ctx context.Context, tr *transfer, plan []Step) ([]RefResult, []string, bool, error) {
	if len(plan) == 0 {
		return nil, nil, false, nil
	}
	return s.execute(ctx, tr, plan)
}

// twoWayResults are the results of steps not (or not yet) executed, with
// the side each would write.
func twoWayResults(steps []Step) []RefResult {
	out := stepResults(steps)
	for i, st := range steps {
		if writes(st) {
			out[i].Side = st.Write
		}
	}
	return out
}

// reverseRef swaps the sides of a ref, so that the second leg can run the
// one-way machinery from the target to the source.
func reverseRef(r Ref) Ref {
	r.Source, r.Target, r.TargetPeeled = r.Target, r.Source, plumbing.ZeroHash
	return r
}

func reverseStep(st Step) Step {
	st.Ref = reverseRef(st.Ref)
	st.Write = SideTarget
	return st
}

// reverseResult turns a result of the second leg back into the mirror's
// terms: Source is the source's value, Target the target's.
func reverseResult(r RefResult) RefResult {
	r.Source, r.Target = r.Target, r.Source
	r.Side = SideSource
	return r
}

func refValues(refs map[string]plumbing.Hash) map[plumbing.Hash]bool {
	out := make(map[plumbing.Hash]bool, len(refs))
	for _, h := range refs {
		out[h] = true
	}
	return out
}

func allIn(hs []plumbing.Hash, set map[plumbing.Hash]bool) bool {
	for _, h := range hs {
		if !set[h] {
			return false
		}
	}
	return true
}
