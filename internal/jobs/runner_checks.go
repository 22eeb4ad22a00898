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

// checkRef is a branch whose pushed commit gets a check run.
func checkRef(r mirror.RefResult) bool {
	if !strings.HasPrefix(r.Ref, "refs/heads/") || r.Source == "" {
		return false
	}
	switch r.Outcome {
	case mirror.Diverged, mirror.Rejected, mirror.Failed:
		return true
	}
	return r.Changed()
}

// reportChecks creates a "Gitee mirror" check run on the source commit of
// each branch the sync changed, left diverged or failed to write: success,
// neutral when the branch diverged (nothing lost, nothing written), failure
// when it was not mirrored. Failing to report is logged, not an error: the
// sync itself is recorded either way.
func (r *DefaultRunner) reportChecks(ctx context.Context, log *slog.Logger, gh forge.Checks, m *store.Mirror, res *mirror.Result, syncErr error) {
	var order []string
	bySHA := map[string][]mirror.RefResult{}
	for _, ref := range res.Refs {
		if !checkRef(ref) {
			continue
		}
		if _, ok := bySHA[ref.Source]; !ok {
			if len(order) == maxCheckRuns {
				continue
			}
			order = append(order, ref.Source)
		}
		bySHA[ref.Source] = append(bySHA[ref.Source], ref)
	}
	for _, sha := range order {
		cr := checkRun(m, bySHA[sha], res, syncErr)
		if r.cfg.DetailsURL != nil {
			cr.DetailsURL = r.cfg.DetailsURL(m)
		}
		if _, err := gh.CreateCheckRun(ctx, m.A.Owner, m.A.Name, sha, cr); err != nil {
			log.Warn("could not create a check run", slog.String("sha", sha), slog.String(logkey.ErrorClass, string(failure.ClassOf(err))), slog.Any(logkey.Error, err))
			if c := failure.ClassOf(err); c == failure.Permission || c == failure.Auth {
				return // the next ones would be refused too
			}
		}
	}
}

// checkRun describes the outcome for one commit's branches.
func checkRun(m *store.Mirror, refs []mirror.RefResult, res *mirror.Result, syncErr error) forge.CheckRun {
	conclusion := forge.ConclusionSuccess
	var bad *mirror.RefResult
	for i, ref := range refs {
		switch ref.Outcome {
		case mirror.Rejected, mirror.Failed:
			conclusion, bad = forge.ConclusionFailure, &refs[i]
		case mirror.Diverged:
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
	case conclusion == forge.ConclusionNeutral:
		title = fmt.Sprintf("Diverged on %s: not overwritten", target)
	default:
		title = "Mirrored to " + target
	}
	return forge.CheckRun{
		Name: forge.CheckRunName, Conclusion: conclusion, Title: title,
		Summary:    checkSummary(m, refs, res, syncErr),
		ExternalID: strconv.FormatInt(m.ID, 10),
	}
}

// checkSummary is the Markdown shown on the commit: the commit's branches,
// then every diverged ref of the sync, then the error.
func checkSummary(m *store.Mirror, refs []mirror.RefResult, res *mirror.Result, syncErr error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "GitHub **%s** → Gitee **%s**\n\n", m.A.FullName(), m.B.FullName())
	b.WriteString("| Ref | Outcome | Note |\n|---|---|---|\n")
	for _, ref := range refs {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", cell(ref.Ref), ref.Outcome, cell(refNote(ref)))
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
	case r.Backup != "":
		return "old Gitee commit kept as " + r.Backup
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
