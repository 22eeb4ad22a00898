package mirror

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/lfs"
	"github.com/go-git/go-git/v5/plumbing"
)

// LFSMode says whether Git LFS objects travel with the refs.
type LFSMode string

// LFS modes. The strings are what people write in configuration.
const (
	// LFSOff mirrors pointer files only (the default).
	LFSOff LFSMode = ""
	// LFSCopy copies the objects the pushed commits point to before the
	// refs are updated; a ref whose objects could not all be copied is
	// still updated, and reported.
	LFSCopy LFSMode = "copy"
	// LFSRequired is LFSCopy, except that a ref whose objects could not
	// all be copied is not updated.
	LFSRequired LFSMode = "required"
)

// ParseLFSMode reads a mode as people write it: "false"/"off"/"" (off),
// "true"/"copy" (copy), "required".
func ParseLFSMode(s string) (LFSMode, error) {
	switch s {
	case "", "false", "off":
		return LFSOff, nil
	case "true", "copy", "on":
		return LFSCopy, nil
	case "required":
		return LFSRequired, nil
	}
	return LFSOff, fmt.Errorf("lfs must be true, false or required, not %q", s)
}

// LFSReport is what became of the LFS objects of a sync.
type LFSReport struct {
	Objects       int   `json:"objects"`        // objects the new commits point to
	Bytes         int64 `json:"bytes"`          // their total size
	Present       int   `json:"present"`        // already on the receiving side
	Uploaded      int   `json:"uploaded"`       // copied by this sync
	UploadedBytes int64 `json:"uploaded_bytes"` // size of those copied
	Missing       int   `json:"missing"`        // not on the receiving side after the sync
	MissingBytes  int64 `json:"missing_bytes"`
	// Reason says, for a person, why objects are missing; Class
	// classifies it.
	Reason string        `json:"reason,omitempty"`
	Class  failure.Class `json:"error_class,omitempty"`
	// NoLFS is set when the receiving side has no LFS storage at all.
	NoLFS bool `json:"no_lfs,omitempty"`
	// Failed lists the first objects that could not be copied.
	Failed []lfs.Failure `json:"failed,omitempty"`
}

// maxReportedFailures bounds LFSReport.Failed.
const maxReportedFailures = 20

// Complete reports whether every LFS object the sync found is where it
// belongs (true for a nil report: LFS off or nothing found).
func (r *LFSReport) Complete() bool { return r == nil || (r.Missing == 0 && r.Reason == "") }

func (r *LFSReport) add(o *LFSReport) {
	r.Objects += o.Objects
	r.Bytes += o.Bytes
	r.Present += o.Present
	r.Uploaded += o.Uploaded
	r.UploadedBytes += o.UploadedBytes
	r.Missing += o.Missing
	r.MissingBytes += o.MissingBytes
	if r.Reason == "" {
		r.Reason, r.Class = o.Reason, o.Class
	}
	r.NoLFS = r.NoLFS || o.NoLFS
	r.Failed = append(r.Failed, o.Failed[:min(len(o.Failed), maxReportedFailures-min(len(r.Failed), maxReportedFailures))]...)
}

func (s *syncer) lfsOn() bool { return s.opts.LFS != LFSOff && !s.opts.DryRun }

// lfsAttempt starts the LFS tally of a new attempt; uploads of earlier
// attempts are kept.
func (s *syncer) lfsAttempt() {
	if s.lfsRep != nil {
		s.lfsUploaded += s.lfsRep.Uploaded
		s.lfsUploadedBytes += s.lfsRep.UploadedBytes
	}
	s.lfsRep = nil
}

// lfsResult is the LFS report of the sync: the last attempt's, with every
// attempt's uploads.
func (s *syncer) lfsResult() *LFSReport {
	if s.lfsRep == nil && s.lfsUploaded == 0 {
		return nil
	}
	r := &LFSReport{}
	if s.lfsRep != nil {
		*r = *s.lfsRep
	}
	r.Uploaded += s.lfsUploaded
	r.UploadedBytes += s.lfsUploadedBytes
	return r
}

func (s *syncer) lfsClient(r *remote) (*lfs.Client, error) {
	s.lfsMu.Lock()
	defer s.lfsMu.Unlock()
	if c, ok := s.lfsClients[r]; ok {
		return c, nil
	}
	c, err := lfs.NewClient(lfs.Remote{Side: r.side, GitURL: r.url, Username: r.user, Token: r.token}, r.client, r.agent, s.redact)
	if err != nil {
		return nil, err
	}
	if s.lfsClients == nil {
		s.lfsClients = map[*remote]*lfs.Client{}
	}
	s.lfsClients[r] = c
	return c, nil
}

// copyLFS copies the LFS objects of the leg's pack to the leg's target,
// before any ref of plan is written there. A ref whose objects are not all
// there afterwards is reported (RefResult.LFSMissing) and, with
// LFSRequired, marked Failed so that execute leaves it alone.
func (s *syncer) copyLFS(ctx context.Context, tr *transfer, plan []Step, results []RefResult) error {
	if tr.lfs == nil {
		return nil
	}
	rep := &LFSReport{}
	defer func() {
		if rep.Objects > 0 || rep.Reason != "" {
			s.lfsMu.Lock()
			defer s.lfsMu.Unlock()
			if s.lfsRep == nil {
				s.lfsRep = &LFSReport{}
			}
			s.lfsRep.add(rep)
		}
	}()
	if tr.lfs.unknown > 0 {
		s.log.Warn("some small objects in the pack are deltas against objects it does not hold; an LFS pointer among them would be missed",
			slog.Int("objects", tr.lfs.unknown))
	}
	if err := tr.lfs.err; err != nil {
		rep.Reason = "could not read the pack to find its LFS objects: " + s.redact(err.Error())
		rep.Class = failure.Internal
		s.holdBack(plan, results, nil, rep, tr.dst.side)
		return nil
	}
	ptrs := tr.lfs.found()
	if len(ptrs) == 0 {
		return nil
	}
	src, err := s.lfsClient(tr.src)
	if err != nil {
		return err
	}
	dst, err := s.lfsClient(tr.dst)
	if err != nil {
		return err
	}
	cp := &lfs.Copier{Source: src, Target: dst, Parallel: s.opts.LFSParallel, RetryDelay: s.opts.RetryDelay, Logger: s.log}
	got, err := cp.Copy(ctx, ptrs)
	rep.Objects, rep.Bytes, rep.Present = got.Objects, got.Bytes, got.Present
	rep.Uploaded, rep.UploadedBytes = got.Uploaded, got.UploadedBytes
	rep.Missing, rep.MissingBytes = len(got.Failed), got.FailedBytes()
	rep.Failed = got.Failed[:min(len(got.Failed), maxReportedFailures)]
	if err != nil {
		return failure.Wrap(failure.ClassOf(err), err, "the sync stopped while copying LFS objects")
	}
	if got.Complete() {
		return nil
	}
	switch {
	case got.Unavailable != nil:
		rep.NoLFS = true
		rep.Class = failure.Rejected
		rep.Reason = got.Unavailable.Error()
	default:
		rep.Class = got.Failed[0].Class
		rep.Reason = fmt.Sprintf("%d LFS object(s) could not be copied to the %s; the first: %s", len(got.Failed), tr.dst.side, got.Failed[0].Message)
	}
	s.log.Warn("LFS objects missing on the "+tr.dst.side, slog.Int("objects", rep.Missing), slog.Int64("bytes", rep.MissingBytes), slog.String("reason", rep.Reason))

	missing := map[plumbing.Hash]bool{}
	failedOID := map[string]bool{}
	for _, f := range got.Failed {
		failedOID[f.OID] = true
	}
	for id, p := range tr.lfs.pointers {
		if failedOID[p.OID] {
			missing[id] = true
		}
	}
	var tips []plumbing.Hash
	for _, st := range plan {
		if writesObjects(st) {
			tips = append(tips, st.Source)
		}
	}
	needs, err := lfsNeeds(tr.spool, tips, missing)
	if err != nil {
		s.log.Warn("could not tell which refs need the missing LFS objects; counting them against every updated ref", slog.Any("error", err))
		needs = nil
	}
	s.holdBack(plan, results, needs, rep, tr.dst.side)
	return nil
}

func writesObjects(st Step) bool {
	switch st.Action {
	case ActCreate, ActUpdate, ActOverwrite:
		return true
	}
	return false
}

// holdBack notes on each ref to be written how many missing LFS objects it
// needs (all of them when needs is nil) and, with LFSRequired, marks it
// Failed so that it is not written.
func (s *syncer) holdBack(plan []Step, results []RefResult, needs map[plumbing.Hash]int, rep *LFSReport, side string) {
	for i, st := range plan {
		if !writesObjects(st) || results[i].Outcome == Failed {
			continue
		}
		n := rep.Missing
		if needs != nil {
			n = needs[st.Source]
		}
		if n == 0 && rep.Missing > 0 {
			continue
		}
		results[i].LFSMissing = n
		if s.opts.LFS != LFSRequired {
			continue
		}
		results[i].Outcome, results[i].Class = Failed, rep.Class
		results[i].Message = fmt.Sprintf("not updated (lfs: required): %d LFS object(s) it needs are not on the %s: %s", n, side, rep.Reason)
		if n == 0 {
			results[i].Message = "not updated (lfs: required): " + rep.Reason
		}
	}
}
