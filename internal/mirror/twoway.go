package mirror

import (
	"context"
	"log/slog"
	"sync"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/go-git/go-git/v5/plumbing"
)

// attemptTwoWay is one round of a two-way sync: one plan over both sides,
// then two legs, each the one-way relay in one direction (a thin pack from
// one side's upload-pack streamed into the other's receive-pack, backups
// first, every update carrying the value it replaces).
//
// The legs run at the same time, in two phases. First each settles the
// ancestry questions put to its source (and, for the leg towards the
// source, learns the capabilities its two services need); then, once the
// plan is made from both legs' answers, each writes its side. They can run
// together because they never write the same ref: a step writes one side
// only, backups are made on the side written, and every update carries the
// value it replaces (compare-and-swap). The last-synced state is written by
// Sync after both legs have returned, from the refs each side confirmed, so a
// sync cut anywhere (one leg done, the other cut mid-pack, both cut) leaves
// refs equal on both sides or as they were, which the next plan sees as
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

	ans := s.ancestry()
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
	// The leg towards the source learns its services' capabilities now, in
	// parallel with the other leg's fetch, when the draft shows it may have
	// work; otherwise only if it turns out to need them.
	warmA := len(askA) > 0 || mayWrite(draft, SideSource) || (s.lfsOn() && someOnlyOn(refs, SideTarget))
	err := concurrently(ctx,
		func(ctx context.Context) error { return toB.settle(ctx, refs, askB, false) },
		func(ctx context.Context) error { return toA.settle(ctx, reversed, askA, warmA) })
	if err != nil {
		return res, false, toA.failedWith(err)
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

	// Both legs run to their end even if the other fails: each ref's
	// outcome is its own (per-ref isolation), and a leg cut short by an
	// error leaves its refs as they were.
	var legB, legA legOutcome
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		legB = s.executeLeg(ctx, toB, writeB)
	}()
	legA = s.executeLeg(ctx, toA, writeA)
	wg.Wait()

	for i := range legB.results {
		legB.results[i].Side = SideTarget
	}
	for i := range legA.results {
		legA.results[i] = reverseResult(legA.results[i])
	}
	res.Refs = append(res.Refs, legB.results...)
	res.Refs = append(res.Refs, legA.results...)
	res.Backups, res.SourceBackups = legB.backups, legA.backups
	res.Bytes = toB.bytes + toA.bytes
	retry := legA.moved || legB.moved
	switch {
	case legA.err != nil:
		legA.err = toA.failedWith(legA.err)
	case toA.unpackFailed && toA.remembered:
		// The source could not store the pack: perhaps one it cannot
		// complete (thin), which fresh capabilities would have said.
		toA.forgetCapabilities()
		retry = true
	case !allOK(legA.results):
		toA.forgetCapabilities()
	}
	err = legB.err
	if err == nil {
		err = legA.err
	}
	return res, retry, err
}

// failedWith is err, the failure of this leg. If the leg used remembered
// capabilities they are forgotten, since they may be what made it fail, and
// err becomes worth a retry, which asks the server for fresh ones: a
// stale cache costs an attempt, never a failed sync.
func (t *transfer) failedWith(err error) error {
	if !t.remembered {
		return err
	}
	t.forgetCapabilities()
	if failure.IsTransient(err) {
		return err
	}
	return failure.Wrap(failure.Network, err,
		"carrying refs from the %s to the %s failed with Git capabilities remembered from an earlier sync; trying again with fresh ones",
		t.src.side, t.dst.side)
}

// settle is a leg's first phase: with warm, learn the capabilities of the
// leg's two services (both at once); then fetch what the questions put to
// the leg's source need (and, with LFS, the pack to scan) and answer them.
func (t *transfer) settle(ctx context.Context, refs []Ref, asked []question, warm bool) error {
	if warm {
		if err := t.capabilities(ctx); err != nil {
			return err
		}
	}
	if err := t.prepare(ctx, refs, asked); err != nil {
		return err
	}
	return t.resolve(ctx, asked)
}

// legOutcome is what execute returned for one leg.
type legOutcome struct {
	results []RefResult
	backups []string
	moved   bool
	err     error
}

// executeLeg runs execute for a leg that has something to write.
func (s *syncer) executeLeg(ctx context.Context, tr *transfer, plan []Step) legOutcome {
	if len(plan) == 0 {
		return legOutcome{}
	}
	var o legOutcome
	o.results, o.backups, o.moved, o.err = s.execute(ctx, tr, plan)
	return o
}

// concurrently runs a and b at the same time and returns the error of the
// one that failed first; that failure cancels the other's context, so that
// it does not go on with work the attempt will not use.
func concurrently(ctx context.Context, a, b func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var once sync.Once
	var first error
	fail := func(err error) {
		if err != nil {
			once.Do(func() { first = err; cancel() })
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fail(a(ctx))
	}()
	fail(b(ctx))
	<-done
	return first
}

func allOK(results []RefResult) bool {
	for _, r := range results {
		if !r.OK() {
			return false
		}
	}
	return true
}

// mayWrite reports whether a draft plan (made with every ancestry answer
// Unknown) may, once the answers are in, write side: a step writes it, or
// a conflict that a fast-forward may resolve either way.
func mayWrite(draft []Step, side Side) bool {
	for _, st := range draft {
		if (writes(st) && st.Write == side) || st.Outcome == Conflict {
			return true
		}
	}
	return false
}

// someOnlyOn reports whether side holds a value of a ref that the other
// side holds differently or not at all.
func someOnlyOn(refs []Ref, side Side) bool {
	for _, r := range refs {
		v, other := r.Source, r.Target
		if side == SideTarget {
			v, other = r.Target, r.Source
		}
		if !v.IsZero() && v != other {
			return true
		}
	}
	return false
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
