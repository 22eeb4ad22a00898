package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/logkey"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// maxCheckRuns bounds the check runs one sync creates.
const maxCheckRuns = 10

// gitURLs are a mirror's sides' Git URLs, without credentials: what the
// commands that resolve a conflict name.
type gitURLs struct{ a, b string }

// checkRef is a branch whose pushed commit gets a check run.
func checkRef(r mirror.RefResult) bool {
	if !strings.HasPrefix(r.Ref, "refs/heads/") || checkSHA(r) == "" {
		return false
	}
	switch r.Outcome {
	case mirror.Diverged, mirror.Rejected, mirror.Failed, mirror.Conflict:
		return true
	}
	return r.Changed()
}

// checkSHA is the side-A commit a ref's check run is on: the source's,
// or, when a two-way sync wrote side A, the commit it wrote there.
func checkSHA(r mirror.RefResult) string {
	if r.Side == mirror.SideSource {
		if r.Outcome == mirror.Deleted {
			return ""
		}
		return r.Target
	}
	return r.Source
}

// reportChecks creates a "Gitee mirror" check run on the source commit of
// each branch the sync changed, left diverged or failed to write: success,
// neutral when the branch diverged (nothing lost, nothing written), failure
// when it was not mirrored. Failing to report is logged, not an error: the
// sync itself is recorded either way.
func (r *DefaultRunner) reportChecks(ctx context.Context, log *slog.Logger, m *store.Mirror, urls gitURLs, res *mirror.Result, syncErr error) {
	var order []string
	bySHA := map[string][]mirror.RefResult{}
	for _, ref := range res.Refs {
		if !checkRef(ref) {
			continue
		}
		sha := checkSHA(ref)
		if _, ok := bySHA[sha]; !ok {
			if len(order) == maxCheckRuns {
				continue
			}
			order = append(order, sha)
		}
		bySHA[sha] = append(bySHA[sha], ref)
	}
	if len(order) == 0 {
		return
	}
	gh, ok := r.checksSite(ctx, log, m)
	if !ok {
		return
	}
	note := r.problemsNote(ctx, log, m)
	for _, sha := range order {
		cr := checkRun(m, urls, bySHA[sha], res, syncErr)
		cr.Summary += note
		if r.cfg.DetailsURL != nil {
			cr.DetailsURL = r.cfg.DetailsURL(m)
		}
		if _, err := gh.CreateCheckRun(ctx, m.A.Owner, m.A.Name, sha, cr); err != nil {
			log.Warn("could not create a check run", slog.String("sha", sha), slog.String(logkey.ErrorClass, string(failure.ClassOf(err))), slog.Any(logkey.Error, err))
			if refusedToken(err) {
				r.forgetToken(m) // a new token next time
				return           // the next ones would be refused too
			}
		}
	}
}

// checksSite is m's side A reached with a token for check runs alone, or
// false (logged) when none can be had: a missing check run never fails a
// sync.
func (r *DefaultRunner) checksSite(ctx context.Context, log *slog.Logger, m *store.Mirror) (forge.Checks, bool) {
	f, _, err := r.repoSite(ctx, m, forge.ScopeChecks)
	if err != nil {
		log.Warn("could not mint a GitHub token for check runs", slog.String(logkey.ErrorClass, string(failure.ClassOf(err))), slog.Any(logkey.Error, err))
		return nil, false
	}
	checks, ok := f.(forge.Checks)
	return checks, ok
}

// checkRun describes the outcome for one commit's branches.
func checkRun(m *store.Mirror, urls gitURLs, refs []mirror.RefResult, res *mirror.Result, syncErr error) forge.CheckRun {
	conclusion := forge.ConclusionSuccess
	var bad *mirror.RefResult
	conflict := false
	for i, ref := range refs {
		switch ref.Outcome {
		case mirror.Rejected, mirror.Failed:
			conclusion, bad = forge.ConclusionFailure, &refs[i]
		case mirror.Diverged, mirror.Conflict:
			conflict = conflict || ref.Outcome == mirror.Conflict
			if conclusion == forge.ConclusionSuccess {
				conclusion = forge.ConclusionNeutral
			}
		}
	}
	if syncErr != nil {
		conclusion = forge.ConclusionFailure
	}
	target := "Gitee " + m.B.FullName()
	var title string
	switch {
	case syncErr != nil:
		title = fmt.Sprintf("Not mirrored to %s: %s", target, failure.ClassOf(syncErr))
	case bad != nil:
		class := bad.Class
		if class == "" {
			class = failure.Rejected
		}
		title = fmt.Sprintf("Not mirrored to %s: %s", target, class)
	case conflict:
		title = fmt.Sprintf("Conflict with %s: changed on both sides, nothing overwritten", target)
	case conclusion == forge.ConclusionNeutral:
		title = fmt.Sprintf("Diverged on %s: not overwritten", target)
	case m.Direction.TwoWay():
		title = "In sync with " + target
	default:
		title = "Mirrored to " + target
	}
	return forge.CheckRun{
		Name: forge.CheckRunName, Conclusion: conclusion, Title: title,
		Summary:    checkSummary(m, urls, refs, res, syncErr),
		ExternalID: strconv.FormatInt(m.ID, 10),
	}
}

// checkSummary is the Markdown shown on the commit: the commit's branches,
// then every diverged ref of the sync, then the error.
func checkSummary(m *store.Mirror, urls gitURLs, refs []mirror.RefResult, res *mirror.Result, syncErr error) string {
	var b strings.Builder
	arrow := "→"
	if m.Direction.TwoWay() {
		arrow = "↔"
	}
	fmt.Fprintf(&b, "GitHub **%s** %s Gitee **%s**\n\n", m.A.FullName(), arrow, m.B.FullName())
	b.WriteString("| Ref | Outcome | Note |\n|---|---|---|\n")
	for _, ref := range refs {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", cell(ref.Ref), ref.Outcome, cell(refNote(ref)))
	}
	if cs := Conflicts(res.Refs, urls.a, urls.b); len(cs) > 0 {
		b.WriteString("\n**Conflicts**: these refs changed on both GitHub and Gitee since the last sync; " +
			"nothing was written to either side, nothing was lost. Keep one side's commit:\n\n")
		for _, c := range cs {
			fmt.Fprintf(&b, "- `%s`: GitHub `%s`, Gitee `%s`\n", cell(c.Ref), c.A, c.B)
			if c.KeepA != "" {
				fmt.Fprintf(&b, "  - keep GitHub's: `%s`\n  - keep Gitee's: `%s`\n", c.KeepA, c.KeepB)
			}
		}
		b.WriteString("\n" + ResolveAdvice + "\n")
	}
	var diverged []mirror.RefResult
	for _, ref := range res.Refs {
		if ref.Outcome == mirror.Diverged {
			diverged = append(diverged, ref)
		}
	}
	if len(diverged) > 0 {
		b.WriteString("\n**Diverged on Gitee**: these refs moved there and were left alone, nothing was lost. " +
			"Set `force: true` in `.github/gitee-mirror.yml` to overwrite them after a backup.\n\n")
		for _, ref := range diverged {
			fmt.Fprintf(&b, "- `%s`: GitHub `%s`, Gitee `%s`\n", cell(ref.Ref), short(ref.Source), short(ref.Target))
		}
	}
	if syncErr != nil {
		fmt.Fprintf(&b, "\n**The sync failed** (%s): %s\n", failure.ClassOf(syncErr), cell(syncErr.Error()))
	}
	return b.String()
}

func refNote(r mirror.RefResult) string {
	switch {
	case r.Message != "":
		return r.Message
	case r.Backup != "" && r.Side == mirror.SideSource:
		return "old GitHub commit kept as " + r.Backup
	case r.Backup != "":
		return "old Gitee commit kept as " + r.Backup
	case r.Side == mirror.SideSource && r.Changed():
		return "from Gitee"
	case r.Side == mirror.SideTarget && r.Changed():
		return "to Gitee"
	}
	return ""
}

// cell makes text safe inside a Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.Join(strings.Fields(s), " ")
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
