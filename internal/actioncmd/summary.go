package actioncmd

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// maxSummaryRows bounds the Markdown table: GitHub refuses a step summary
// over 1 MiB, and the report file has every ref anyway.
const maxSummaryRows = 500

// row is one ref in the tables. Unchanged refs are counted, not listed: a
// repository with thousands of tags would bury what happened.
type row struct {
	ref, outcome, source, target, message string
}

// rows returns the refs to list and how many refs were already in sync.
func rows(res *mirror.Result, red *redactor) (out []row, unchanged int) {
	for _, r := range res.Refs {
		if r.Outcome == mirror.Unchanged {
			unchanged++
			continue
		}
		outcome := string(r.Outcome)
		if r.Outcome == mirror.Planned {
			outcome += " (" + string(r.Action) + ")"
		}
		out = append(out, row{
			ref:     oneLine(r.Ref),
			outcome: outcome,
			source:  short(r.Source),
			target:  short(r.Target),
			message: oneLine(red.String(refMessage(r))),
		})
	}
	return out, unchanged
}

// refMessage explains a ref's outcome: the core's message, led by the
// failure class, and the backup ref if one was made.
func refMessage(r mirror.RefResult) string {
	msg := r.Message
	// The class adds nothing when it repeats the outcome ("diverged").
	if c := string(r.Class); c != "" && c != string(r.Outcome) && !strings.HasPrefix(msg, c) {
		msg = join(": ", c, msg)
	}
	if r.Outcome == mirror.Diverged && msg == "" {
		msg = "the destination has commits the source lacks; force: true overwrites it after a backup"
	}
	if r.Backup != "" {
		msg = join("; ", msg, "backup: "+r.Backup)
	}
	if r.LFSMissing > 0 && r.Outcome != mirror.Failed {
		msg = join("; ", msg, fmt.Sprintf("%d LFS object(s) it needs are missing on the destination", r.LFSMissing))
	}
	return msg
}

// join joins the non-empty parts with sep.
func join(sep string, parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, sep)
}

// short abbreviates an object id as git does; "-" when absent.
func short(id string) string {
	switch {
	case id == "":
		return "-"
	case len(id) > 7:
		return id[:7]
	}
	return id
}

// totals is the one-line tally under both tables.
func totals(rep *report, unchanged int) string {
	s := fmt.Sprintf("%d changed, %d diverged, %d already in sync", rep.Changed, rep.Diverged, unchanged)
	if rep.Conflicts > 0 {
		s = fmt.Sprintf("%d changed, %d in conflict, %d already in sync", rep.Changed, rep.Conflicts, unchanged)
	}
	if rep.Kept > 0 {
		s = fmt.Sprintf("%d changed, %d diverged, %d kept by prune (out of sync: delete them on the destination or run with force), %d already in sync",
			rep.Changed, rep.Diverged, rep.Kept, unchanged)
	}
	if rep.DryRun {
		s += " (dry run: nothing was written)"
	}
	return s
}

// plainTable renders the run for a terminal or the workflow log, under the
// "Mirroring … to …" line run prints first. A failed sync that got no refs
// renders as nothing: a "0 changed" tally would read as a result, and run
// prints the error itself, once.
func plainTable(rep *report, red *redactor) string {
	var b strings.Builder
	if rep.Error != nil && len(rep.Refs) == 0 {
		return ""
	}
	rs, unchanged := rows(rep.Result, red)
	if len(rs) > 0 {
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "REF\tOUTCOME\tSOURCE\tTARGET\tMESSAGE")
		for _, r := range rs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ref, r.outcome, r.source, r.target, r.message)
		}
		tw.Flush()
	}
	fmt.Fprintln(&b, totals(rep, unchanged))
	for _, bk := range rep.Backups {
		fmt.Fprintf(&b, "backup: %s\n", bk)
	}
	return b.String()
}

// markdown renders the run for the step summary.
func markdown(rep *report, red *redactor) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### gitee-mirror\n\n%s → %s\n\n", md(rep.Source), md(rep.Destination))
	if rep.Error != nil {
		fmt.Fprintf(&b, "> [!CAUTION]\n> Sync failed: %s\n\n", md(oneLine(rep.Error.Message)))
	}
	rs, unchanged := rows(rep.Result, red)
	if len(rs) > 0 {
		b.WriteString("| Ref | Outcome | Source | Target | Message |\n| --- | --- | --- | --- | --- |\n")
		for i, r := range rs {
			if i == maxSummaryRows {
				fmt.Fprintf(&b, "\n… and %d more refs: see the report file.\n", len(rs)-i)
				break
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", md(r.ref), md(r.outcome), md(r.source), md(r.target), md(r.message))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%s\n", md(totals(rep, unchanged)))
	if len(rep.Backups) > 0 {
		b.WriteString("\nBackups created on the destination:\n\n")
		for _, bk := range rep.Backups {
			fmt.Fprintf(&b, "- %s\n", md(bk))
		}
	}
	return b.String()
}

// mdEscaper neutralises what Markdown or HTML would read in a table cell. Ref
// names come from the remote and may hold any of these.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "~", `\~`,
	"|", `\|`, "&", "&amp;", "<", "&lt;", ">", "&gt;", "\n", " ", "\r", " ",
)

func md(s string) string { return mdEscaper.Replace(s) }
