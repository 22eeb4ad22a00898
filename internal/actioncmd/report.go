package actioncmd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// report is the JSON file behind the `report` output: the sync's Result with
// what it was run on, and the failure of the whole sync if there was one.
type report struct {
	Source      string       `json:"source"`
	Destination string       `json:"destination"`
	DryRun      bool         `json:"dry_run"`
	OK          bool         `json:"ok"`
	Changed     int          `json:"changed"`
	Diverged    int          `json:"diverged"`
	Kept        int          `json:"kept"` // refs prune kept: out of sync (see keptOutOfSync)
	Conflicts   int          `json:"conflicts"`
	Error       *reportError `json:"error,omitempty"`
	Note        string       `json:"note,omitempty"` // what was done besides refs, e.g. the destination created
	Finished    time.Time    `json:"finished_at"`
	// Releases is set with the releases input (releases.go).
	Releases *releasesReport `json:"releases,omitempty"`
	*mirror.Result
}

// reportError is a failure of the whole sync.
type reportError struct {
	Class   failure.Class `json:"class"`
	Message string        `json:"message"`
}

// newReport builds the report. Every message in it passes the redactor: the
// file is uploaded as an artifact or read by later steps, where no mask helps.
func newReport(opts mirror.Options, res *mirror.Result, syncErr error, red *redactor, now time.Time) *report {
	r := *res // a copy: its Refs are rewritten below
	r.Refs = make([]mirror.RefResult, len(res.Refs))
	for i, ref := range res.Refs {
		ref.Message = red.String(ref.Message)
		r.Refs[i] = ref
	}
	r.LFS = redactLFS(res.LFS, red)
	rep := &report{
		Source:      opts.Source.URL,
		Destination: opts.Target.URL,
		DryRun:      opts.DryRun,
		OK:          syncErr == nil && res.OK() && countKept(res, outOfSync(opts)) == 0,
		Changed:     len(res.Changed()),
		Diverged:    res.Count(mirror.Diverged),
		Kept:        countKept(res, outOfSync(opts)),
		Conflicts:   len(res.Conflicts()),
		Finished:    now.UTC(),
		Result:      &r,
	}
	if syncErr != nil {
		rep.Error = &reportError{Class: failure.ClassOf(syncErr), Message: red.String(syncErr.Error())}
	}
	return rep
}

// reportName is unique per step, so two mirror steps in one job keep both
// reports.
func reportName(getenv func(string) string) string {
	step := getenv("GITHUB_ACTION") // the step's id, or a generated one
	if step == "" {
		return "gitee-mirror-report.json"
	}
	return "gitee-mirror-report-" + unsafeName.ReplaceAllString(step, "-") + ".json"
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// writeReport writes the report and returns the path to put in the output.
//
// The file goes to GITHUB_WORKSPACE when set, else the working directory,
// not RUNNER_TEMP: a docker action gets the host's RUNNER_TEMP path, which is
// not mounted in its container (actions/runner#1984). The workspace is, but
// at another path (/github/workspace), so the output is relative to it:
// later steps start there.
func writeReport(rep any, red *redactor, getenv func(string) string, getwd func() (string, error)) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return "", fmt.Errorf("encoding the report: %w", err)
	}
	dir := getenv("GITHUB_WORKSPACE")
	relative := dir != ""
	if dir == "" {
		wd, err := getwd()
		if err != nil {
			return "", fmt.Errorf("finding the working directory for the report: %w", err)
		}
		dir = wd
	}
	name := reportName(getenv)
	full := filepath.Join(dir, name)
	if err := os.WriteFile(full, []byte(red.String(buf.String())), 0o644); err != nil {
		return "", fmt.Errorf("writing the report: %w", err)
	}
	if relative {
		return name, nil
	}
	return full, nil
}

// keptOutOfSync reports whether r is a ref that prune was asked to delete
// but kept, because its commits are on no source ref (or that could not be
// told). The destination is then not a mirror of the source, so the ref
// counts as out of sync, like a diverged one. Without prune, a ref only the
// destination has is kept on purpose and is in sync with the policy.
func keptOutOfSync(r mirror.RefResult, prune bool) bool {
	return prune && r.Outcome == mirror.Kept
}

// countKept counts the refs prune kept.
func countKept(res *mirror.Result, prune bool) int {
	n := 0
	for _, r := range res.Refs {
		if keptOutOfSync(r, prune) {
			n++
		}
	}
	return n
}

// setOutputs sets the step outputs: changed, diverged, kept, failed, report.
// failed counts repositories, as in account mode: 1 when the sync failed or
// a ref could not be synced (diverged refs have their own count).
func setOutputs(c *console, rep *report, reportPath string) error {
	failed := 0
	if rep.Error != nil || len(rep.Refs)-rep.Count(mirror.Diverged)-rep.Conflicts > countOK(rep.Result) {
		failed = 1
	}
	return errors.Join(
		c.setOutput("changed", strconv.Itoa(rep.Changed)),
		c.setOutput("diverged", strconv.Itoa(rep.Diverged)),
		c.setOutput("kept", strconv.Itoa(rep.Kept)),
		c.setOutput(outConflicts, strconv.Itoa(rep.Conflicts)),
		c.setOutput("failed", strconv.Itoa(failed)),
		c.setOutput("report", reportPath),
	)
}

// countOK counts the refs that are in sync.
func countOK(res *mirror.Result) int {
	n := 0
	for _, r := range res.Refs {
		if r.OK() {
			n++
		}
	}
	return n
}
