package actioncmd

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
)

// repoRow is one repository in the tables.
type repoRow struct {
	repo, status, changed, diverged, failed, time, message string
}

// repoRows returns the repositories to list: all but those left out by
// include or exclude.
func repoRows(rep *accountReport) []repoRow {
	var out []repoRow
	for _, r := range rep.Repos {
		if r.filtered {
			continue
		}
		name := r.Source[strings.IndexByte(r.Source, '/')+1:]
		if t := r.Destination[strings.IndexByte(r.Destination, '/')+1:]; t != name {
			name += " → " + t
		}
		st := string(r.Status)
		if r.Created {
			st += " (created)"
		}
		row := repoRow{repo: name, status: st, changed: "-", diverged: "-", failed: "-", time: seconds(r.Time), message: repoDetail(r)}
		if r.Result != nil {
			row.changed, row.diverged, row.failed = strconv.Itoa(r.Changed), strconv.Itoa(r.Diverged), strconv.Itoa(r.Failed)
		}
		out = append(out, row)
	}
	return out
}

// accountTotals is the tally under both tables.
func accountTotals(rep *accountReport) string {
	parts := []string{fmt.Sprintf("%d mirrored", rep.MirroredRepos)}
	for _, p := range []struct {
		n    int
		what string
	}{{rep.FailedRepos, "failed"}, {rep.DivergedRepos, "diverged"}, {rep.KeptRepos, "with refs kept by prune"}, {rep.PlannedRepos, "to create"}, {rep.SkippedRepos - rep.filtered, "skipped"}, {rep.filtered, "not selected by include/exclude"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	s := fmt.Sprintf("Repositories: %s. Refs: %d changed, %d diverged.", strings.Join(parts, ", "), rep.Changed, rep.Diverged)
	if rep.Kept > 0 {
		s = fmt.Sprintf("Repositories: %s. Refs: %d changed, %d diverged, %d kept by prune (out of sync: delete them on the destination or run with force).",
			strings.Join(parts, ", "), rep.Changed, rep.Diverged, rep.Kept)
	}
	if rep.Conflicts > 0 {
		s += fmt.Sprintf(" %d refs in conflict (changed on both sides; each repository's report lists both commits).", rep.Conflicts)
	}
	if rep.Releases > 0 {
		s += fmt.Sprintf(" Releases: %d created or updated.", rep.Releases)
	}
	if rep.DryRun {
		s += " (dry run: nothing was written)"
	}
	return s
}

// accountTable renders the run for the workflow log or a terminal.
func accountTable(rep *accountReport) string {
	var b strings.Builder
	if rep.Error != nil && len(rep.Repos) == 0 {
		return "" // run prints the error, once; a "0 mirrored" tally would mislead
	}
	if rs := repoRows(rep); len(rs) > 0 {
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "REPOSITORY\tSTATUS\tCHANGED\tDIVERGED\tFAILED\tTIME\tMESSAGE")
		for _, r := range rs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.repo, r.status, r.changed, r.diverged, r.failed, r.time, r.message)
		}
		tw.Flush()
	}
	fmt.Fprintln(&b, accountTotals(rep))
	return b.String()
}

// accountMarkdown renders the run for the step summary.
func accountMarkdown(rep *accountReport) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### gitee-mirror\n\n%s → %s\n\n", md(rep.Source), md(rep.Destination))
	if rep.Error != nil {
		fmt.Fprintf(&b, "> [!CAUTION]\n> Nothing could be mirrored: %s\n\n", md(oneLine(rep.Error.Message)))
	}
	if rs := repoRows(rep); len(rs) > 0 {
		b.WriteString("| Repository | Status | Changed | Diverged | Failed | Time | Message |\n| --- | --- | ---: | ---: | ---: | ---: | --- |\n")
		for i, r := range rs {
			if i == maxSummaryRows {
				fmt.Fprintf(&b, "\n… and %d more repositories: see the report file.\n", len(rs)-i)
				break
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", md(r.repo), md(r.status), r.changed, r.diverged, r.failed, r.time, md(r.message))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%s\n", md(accountTotals(rep)))
	return b.String()
}
