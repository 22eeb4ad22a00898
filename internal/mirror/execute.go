package mirror

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/go-git/go-git/v5/plumbing"
)

// backupPrefix is where old target tips are kept before they are overwritten
// or deleted: refs/mirror-backup/<UTC time>/heads/<branch> and
// .../tags/<tag>.
const backupPrefix = "refs/mirror-backup/"

// execute carries out a plan on the target: backups first (in a push of
// their own, so that nothing is overwritten unless its backup exists), then
// every update in one non-atomic push, each carrying its expected old value.
func (s *syncer) execute(ctx context.Context, tr *transfer, plan []Step) (results []RefResult, backups []string, conflict bool, err error) {
	results = make([]RefResult, len(plan))
	for i, st := range plan {
		results[i] = stepResult(st)
	}
	if err := s.copyLFS(ctx, tr, plan, results); err != nil {
		return results, nil, false, err
	}
	backups, taken, err := s.backUp(ctx, tr, plan, results)
	if err != nil {
		return results, backups, false, err
	}

	var cmds []command
	idx := map[string]int{}
	onlyDeletes := true
	conflict = taken
	for i, st := range plan {
		if results[i].Outcome == Failed {
			continue // its backup failed: leave it alone
		}
		switch st.Action {
		case ActCreate, ActUpdate, ActOverwrite:
			onlyDeletes = false
			cmds = append(cmds, command{ref: st.Name, old: st.Target, new: st.Source})
		case ActDelete:
			cmds = append(cmds, command{ref: st.Name, old: st.Target, new: plumbing.ZeroHash})
		default:
			continue
		}
		idx[st.Name] = i
	}
	if len(cmds) == 0 {
		return results, backups, conflict, nil
	}
	var pack io.Reader
	size := int64(0)
	done := func() {}
	if !onlyDeletes {
		if pack, size, done, err = tr.packFor(ctx, plan); err != nil {
			return results, backups, false, err
		}
	}
	counted := &countingReader{r: pack}
	var body io.Reader
	if pack != nil {
		body = counted
	}
	s.log.Info("updating refs", slog.String("side", tr.dst.side), slog.Int("refs", len(cmds)))
	rep, err := tr.push(ctx, cmds, body, size)
	done()
	tr.bytes += counted.n
	if counted.err != nil && counted.err != io.EOF {
		// The source stream broke: that, not the target, is the cause.
		return results, backups, false, counted.err
	}
	if err != nil {
		return results, backups, false, err
	}
	tr.unpackFailed = tr.unpackFailed || rep.unpackErr != ""
	var failed []command
	for _, c := range cmds {
		i := idx[c.ref]
		st, ok := rep.refs[c.ref]
		switch {
		case rep.unpackErr != "":
			results[i].Outcome, results[i].Class = Rejected, failure.Rejected
			results[i].Message = s.redact(fmt.Sprintf("the %s could not store the objects (%s)%s", tr.dst.side, rep.unpackErr, said(rep.messages)))
		case ok && st.ok:
			results[i].Outcome = doneOutcome(plan[i].Action)
			results[i].Message = plan[i].Reason
		case ok:
			results[i].Outcome, results[i].Class, results[i].Message = classifyRejection(tr.dst.side, s.redact(st.reason), rep.messages)
			failed = append(failed, c)
		default:
			results[i].Outcome, results[i].Class = Failed, failure.Internal
			results[i].Message = "the " + tr.dst.side + " reported no status for this ref"
			failed = append(failed, c)
		}
	}
	if len(failed) > 0 && s.checkMoved(ctx, tr.dst, failed, idx, results) {
		conflict = true
	}
	return results, backups, conflict, nil
}

// backUp creates a backup ref for every step that needs one. A step whose
// backup fails is marked Failed and will not be executed. taken reports
// that a backup's name appeared on the side after it was listed (a sync or
// push in flight there): the sync is planned again, with a fresh name.
func (s *syncer) backUp(ctx context.Context, tr *transfer, plan []Step, results []RefResult) (made []string, taken bool, err error) {
	var cmds []command
	idx := map[string]int{}
	for i, st := range plan {
		if !st.Backup || results[i].Outcome == Failed { // Failed: held back (copyLFS)
			continue
		}
		name := s.backupName(st.Name, tr.adv.dst.References)
		cmds = append(cmds, command{ref: name, old: plumbing.ZeroHash, new: st.Target})
		idx[name] = i
	}
	if len(cmds) == 0 {
		return nil, false, nil
	}
	rep, err := tr.push(ctx, cmds, bytes.NewReader(emptyPack), int64(len(emptyPack)))
	if err != nil {
		return nil, false, err
	}
	var failed []command
	for _, c := range cmds {
		i := idx[c.ref]
		if st, ok := rep.refs[c.ref]; ok && st.ok && rep.unpackErr == "" {
			made = append(made, c.ref)
			results[i].Backup = c.ref
			s.log.Info("backed up target ref", slog.String("ref", plan[i].Name), slog.String("backup", c.ref))
			continue
		}
		reason := rep.refs[c.ref].reason
		if rep.unpackErr != "" {
			reason = rep.unpackErr
		}
		results[i].Outcome, results[i].Class = Failed, failure.Rejected
		results[i].Message = s.redact(fmt.Sprintf("could not create backup %s (%s)%s; the ref was left as it is", c.ref, reason, said(rep.messages)))
		failed = append(failed, c)
	}
	if len(failed) > 0 {
		taken = s.checkMoved(ctx, tr.dst, failed, idx, results)
	}
	return made, taken, nil
}

// backupName names the backup of ref: under this sync's time stamp, or if
// the side already has that name (a sync in the same second, or an earlier
// attempt of this one) under the stamp with a counter, since a backup ref
// is only ever created, never overwritten.
func (s *syncer) backupName(ref string, existing map[string]plumbing.Hash) string {
	rest := "/" + strings.TrimPrefix(ref, "refs/")
	name := backupPrefix + s.stamp + rest
	for n := 2; ; n++ {
		if _, taken := existing[name]; !taken {
			return name
		}
		name = backupPrefix + s.stamp + "." + strconv.Itoa(n) + rest
	}
}

// checkMoved re-reads the target after refused updates: a ref that no
// longer holds the value the plan was made from moved during the sync
// (compare-and-swap), and the sync is planned again rather than forced.
func (s *syncer) checkMoved(ctx context.Context, dst *remote, failed []command, idx map[string]int, results []RefResult) bool {
	adv, err := dst.advertise(ctx, receivePack)
	if err != nil {
		s.log.Warn("could not re-read target refs after a refused update", slog.Any("error", err))
		return false
	}
	moved := false
	for _, c := range failed {
		now := adv.References[c.ref]
		if now == c.old {
			continue
		}
		moved = true
		i := idx[c.ref]
		results[i].Outcome, results[i].Class = Failed, failure.Rejected
		results[i].Message = fmt.Sprintf("the ref moved on the %s during the sync (expected %s, found %s); not overwritten, planning again",
			dst.side, short(c.old), short(now))
	}
	return moved
}

func doneOutcome(a Action) Outcome {
	switch a {
	case ActCreate:
		return Created
	case ActUpdate:
		return Updated
	case ActOverwrite:
		return Forced
	case ActDelete:
		return Deleted
	}
	return Unchanged
}

// classifyRejection turns receive-pack's reason for refusing a ref into an
// outcome a person can act on.
// side names the repository that refused it ("source" or "target"): in a
// two-way sync's second leg the one written is the source.
func classifyRejection(side, reason, messages string) (Outcome, failure.Class, string) {
	text := strings.ToLower(reason + " " + messages)
	if strings.Contains(text, "workflow") && (strings.Contains(text, "permission") || strings.Contains(text, "scope")) {
		return Rejected, failure.Permission, "GitHub refused to update a workflow file: the token lacks the `workflows` permission. " +
			"For the App, accept the workflows permission in its installation settings; for a personal token, add the workflow scope" +
			said(messages)
	}
	return Rejected, failure.Rejected, "the " + side + " refused the update (" + reason + ")" + said(messages)
}

func said(messages string) string {
	if messages == "" {
		return ""
	}
	return "; the server said: " + firstLine(messages)
}

func short(h plumbing.Hash) string {
	if h.IsZero() {
		return "nothing"
	}
	return h.String()[:12]
}

// countingReader counts bytes and remembers the read error.
type countingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	if err != nil {
		c.err = err
	}
	return n, err
}
