package mirror

import (
	"context"
	"log/slog"
	"sort"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
)

// sides is what both servers advertised at the start of an attempt.
type sides struct {
	src, dst *advRefs
}

// attempt runs one list → plan → transfer → update round. retry is true when
// a ref moved on the target between plan and push: the caller starts over
// with a fresh plan rather than overwrite it.
func (s *syncer) attempt(ctx context.Context) (res *Result, retry bool, err error) {
	var pf *prefetch
	if !s.prefetched {
		s.prefetched = true
		pf = s.startPrefetch(ctx)
		defer pf.drop() // unless a transfer adopted it
	}
	adv, err := s.listBoth(ctx)
	if err != nil {
		return nil, false, err
	}
	res = &Result{}
	refs, invalid := s.collect(adv)
	res.Refs = append(res.Refs, invalid...)
	if err := s.peelTargetTags(ctx, refs); err != nil {
		return nil, false, err
	}
	if s.opts.TwoWay {
		return s.attemptTwoWay(ctx, adv, refs, res)
	}

	sources := s.sourceTips(refs)
	q := &questions{}
	draft := Plan(refs, sources, s.policy(), q)
	if !needsWork(draft) && len(q.asked) == 0 {
		res.NoOp = true
		res.Refs = append(res.Refs, stepResults(draft)...)
		sortResults(res)
		s.log.Info("in sync; nothing to transfer", slog.Int("refs", len(refs)))
		return res, false, nil
	}

	tr := s.newTransfer(adv, s.lazyAncestry())
	tr.prefetch = pf
	if err := tr.prepare(ctx, refs, q.asked); err != nil {
		return res, false, err
	}
	defer tr.cleanup()
	if err := tr.resolve(ctx, q.asked); err != nil {
		return res, false, err
	}
	plan := Plan(refs, sources, s.policy(), tr.answers)
	if s.opts.DryRun {
		res.Refs = append(res.Refs, dryRunResults(plan)...)
		sortResults(res)
		return res, false, nil
	}
	results, backups, conflict, err := s.execute(ctx, tr, plan)
	res.Refs = append(res.Refs, results...)
	res.Backups = backups
	res.Bytes = tr.bytes
	sortResults(res)
	return res, conflict, err
}

func (s *syncer) policy() Policy {
	return Policy{Force: s.opts.Force, Prune: s.opts.Prune, TwoWay: s.opts.TwoWay}
}

// listBoth reads both advertisements concurrently; for a target still to be
// created, see listAndCreate.
func (s *syncer) listBoth(ctx context.Context) (sides, error) {
	if s.create != nil {
		return s.listAndCreate(ctx)
	}
	var adv sides
	errc := make(chan error, 1)
	go func() {
		var err error
		adv.dst, err = s.dst.advertise(ctx, receivePack)
		errc <- err
	}()
	var srcErr error
	var srcV0 bool
	adv.src, srcV0, srcErr = s.listSource(ctx)
	dstErr := <-errc
	if srcErr != nil {
		return adv, srcErr
	}
	if dstErr == nil {
		// For the next sync, which lists the source with ls-refs, and
		// for the next hinted one, which fetches before it lists. A
		// source listed with ls-refs gave no capabilities: the ones it
		// was paired with are not put back, so that they age, and a
		// version 0 listing asks for them again after capMaxAge.
		if srcV0 {
			s.caps.put(s.src, uploadPack, adv.src.Capabilities)
		}
		s.caps.put(s.dst, receivePack, adv.dst.Capabilities)
	}
	return adv, dstErr
}

// listSource lists the source's refs. With its upload-pack's capabilities
// remembered (capCache), that is, through preferV2, an ls-refs of
// sourcePrefixes (lsRefs: the server reads and sends only those, and peels
// nothing), paired with the remembered capabilities; otherwise, or in
// version 0 (preferV2), it is the version 0 advertisement, and v0 is true.
// The refs in scope are the same either way.
func (s *syncer) listSource(ctx context.Context) (adv *advRefs, v0 bool, err error) {
	advertise := func() (*advRefs, error) { return s.src.advertise(ctx, uploadPack) }
	caps := s.caps.get(s.src, uploadPack)
	if caps == nil {
		adv, err = advertise()
		return adv, true, err
	}
	return preferV2(ctx, s, "ls-refs", func() (*advRefs, error) {
		adv, err := s.src.lsRefs(ctx, sourcePrefixes)
		if err == nil {
			adv.Capabilities = caps
		}
		return adv, err
	}, advertise)
}

// listAndCreate reads the source and, unless it has no branch and no tag
// (errSourceEmpty), has the target created (a *createError if that fails).
//
// The target is not read: it was just created empty, so it is taken to have
// no refs (createdTarget). That is safe because every update then pushed
// carries the zero id as the value it expects to replace, which tells the
// target to create the ref only if it does not exist; a ref that appeared
// meanwhile is refused, not overwritten, and execute's checkMoved re-reads
// the target and has the sync planned again from a real listing, as for any
// ref that moves during a sync. With no target tips to build on, the pack is
// a complete one.
func (s *syncer) listAndCreate(ctx context.Context) (sides, error) {
	var adv sides
	var err error
	if adv.src, _, err = s.listSource(ctx); err != nil {
		return adv, err
	}
	if !hasBranchOrTag(adv.src) {
		return adv, errSourceEmpty
	}
	create := s.create
	s.create = nil // once, even if it fails
	if err := create(ctx); err != nil {
		return adv, &createError{err: err}
	}
	s.log.Debug("created the target; taking it as empty without listing it")
	adv.dst = createdTarget()
	return adv, nil
}

// createdTarget stands for the receive-pack advertisement of a repository
// just created empty: no refs, and of the capabilities Git's receive-pack
// has advertised since 1.8 (2013) the ones push uses, so that the push is
// the one a listing would have led to.
func createdTarget() *advRefs {
	ar := newAdvRefs()
	for _, c := range []capability.Capability{capability.ReportStatus, capability.Sideband64k, capability.Quiet, capability.OFSDelta} {
		_ = ar.Capabilities.Set(c) // Set fails only for a value on a capability that takes none
	}
	_ = ar.Capabilities.Set(capability.Agent, "unknown")
	return ar
}

// hasBranchOrTag reports whether adv has any branch or tag, in scope or not.
func hasBranchOrTag(adv *advRefs) bool {
	for name := range adv.References {
		if strings.HasPrefix(name, "refs/heads/") || strings.HasPrefix(name, "refs/tags/") {
			return true
		}
	}
	return false
}

// collect pairs up in-scope refs of both sides; invalid names are reported
// and left out.
func (s *syncer) collect(adv sides) ([]Ref, []RefResult) {
	byName := make(map[string]*Ref, len(adv.src.References))
	var invalid []RefResult
	seenBad := map[string]bool{}
	add := func(name string, h plumbing.Hash, src bool) {
		if !s.scope.In(name) {
			return
		}
		if err := CheckRefName(name); err != nil {
			if !seenBad[name] {
				seenBad[name] = true
				invalid = append(invalid, RefResult{Ref: s.redact(name), Action: ActSkip, Outcome: Skipped,
					Class: failure.Invalid, Message: "invalid ref name, not mirrored: " + s.redact(err.Error())})
			}
			return
		}
		r := byName[name]
		if r == nil {
			r = &Ref{Name: name, Last: s.last[name]}
			byName[name] = r
		}
		if src {
			r.Source = h
		} else {
			r.Target = h
		}
	}
	for name, h := range adv.src.References {
		add(name, h, true)
	}
	for name, h := range adv.dst.References {
		add(name, h, false)
	}
	refs := make([]Ref, 0, len(byName))
	s.listed = make(map[string]bool, len(byName))
	for name, r := range byName {
		refs = append(refs, *r)
		s.listed[name] = true
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].Name < refs[j].Name })
	return refs, invalid
}

// peelTargetTags learns what target-only tags point at, which prune needs
// to tell whether deleting them loses commits. Receive-pack does not
// advertise peeled values, so this asks the target's upload-pack, and only
// when there is such a tag.
func (s *syncer) peelTargetTags(ctx context.Context, refs []Ref) error {
	if !s.opts.Prune || s.opts.TwoWay { // two-way deletes always back up: no question to ask

		return nil
	}
	need := false
	for _, r := range refs {
		if r.Source.IsZero() && isTag(r.Name) {
			need = true
			break
		}
	}
	if !need {
		return nil
	}
	adv, err := s.dst.advertise(ctx, uploadPack)
	if err != nil {
		return err
	}
	for i := range refs {
		if p, ok := adv.Peeled[refs[i].Name]; ok && adv.References[refs[i].Name] == refs[i].Target {
			refs[i].TargetPeeled = p
		}
	}
	return nil
}

// sourceTips are the source values of every in-scope ref.
func (s *syncer) sourceTips(refs []Ref) []plumbing.Hash {
	var out []plumbing.Hash
	for _, r := range refs {
		if !r.Source.IsZero() {
			out = append(out, r.Source)
		}
	}
	return out
}

func needsWork(steps []Step) bool {
	for _, st := range steps {
		if st.Action != ActNone && st.Action != ActSkip {
			return true
		}
	}
	return false
}

func stepResult(st Step) RefResult {
	r := RefResult{Ref: st.Name, Action: st.Action, Outcome: st.Outcome, Message: st.Reason}
	if !st.Source.IsZero() {
		r.Source = st.Source.String()
	}
	switch {
	case st.Target == st.Source:
		r.Target = r.Source // most refs of a sync: one string for both
	case !st.Target.IsZero():
		r.Target = st.Target.String()
	}
	if st.Outcome == Diverged || st.Outcome == Conflict {
		r.Class = failure.Diverged
	}
	return r
}

func stepResults(steps []Step) []RefResult {
	out := make([]RefResult, 0, len(steps))
	for _, st := range steps {
		out = append(out, stepResult(st))
	}
	return out
}

func dryRunResults(steps []Step) []RefResult {
	out := stepResults(steps)
	for i, st := range steps {
		if st.Action != ActNone && st.Action != ActSkip {
			out[i].Outcome = Planned
		}
	}
	return out
}

func sortResults(res *Result) {
	sort.SliceStable(res.Refs, func(i, j int) bool { return res.Refs[i].Ref < res.Refs[j].Ref })
}
