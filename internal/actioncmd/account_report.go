package actioncmd

import (
	"errors"
	"strconv"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// accountReport is the JSON file behind the `report` output in account
// mode: every repository, with every ref of those that were synced.
type accountReport struct {
	Source        string       `json:"source"`      // github/OWNER or gitee/OWNER
	Destination   string       `json:"destination"` // likewise
	DryRun        bool         `json:"dry_run"`
	OK            bool         `json:"ok"`
	Changed       int          `json:"changed"`     // refs written, over all repositories
	Diverged      int          `json:"diverged"`    // refs diverged, over all repositories
	Kept          int          `json:"kept"`        // refs prune kept, over all repositories
	Conflicts     int          `json:"conflicts"`   // two-way: refs in conflict, over all repositories
	Releases      int          `json:"releases"`    // releases created or updated, over all repositories
	LFSObjects    int          `json:"lfs_objects"` // LFS objects uploaded, over all repositories
	MirroredRepos int          `json:"mirrored_repositories"`
	FailedRepos   int          `json:"failed_repositories"`
	DivergedRepos int          `json:"diverged_repositories"`
	KeptRepos     int          `json:"kept_repositories"`
	SkippedRepos  int          `json:"skipped_repositories"`
	PlannedRepos  int          `json:"planned_repositories,omitempty"`
	Error         *reportError `json:"error,omitempty"` // why nothing could run
	Finished      time.Time    `json:"finished_at"`
	Repos         []repoResult `json:"repositories"`
	filtered      int          // skipped by include or exclude
}

// newAccountReport builds the report. Messages pass the redactor here, and
// the whole file again when it is written.
func newAccountReport(o *accountOptions, results []repoResult, runErr error, red *redactor, now time.Time) *accountReport {
	rep := &accountReport{
		Source:      o.source.String(),
		Destination: o.destination.String(),
		DryRun:      o.sync.DryRun,
		Finished:    now.UTC(),
		Repos:       make([]repoResult, 0, len(results)),
	}
	for _, r := range results {
		r = redactRepo(r, red)
		rep.Changed += r.Changed
		rep.Diverged += r.Diverged
		rep.Kept += r.Kept
		rep.Conflicts += r.Conflicts
		rep.Releases += r.Releases.changed()
		rep.LFSObjects += lfsUploaded(r.Result)
		switch r.Status {
		case statusMirrored:
			rep.MirroredRepos++
		case statusFailed:
			rep.FailedRepos++
		case statusDiverged:
			rep.DivergedRepos++
		case statusKept:
			rep.KeptRepos++
		case statusSkipped:
			rep.SkippedRepos++
		case statusPlanned:
			rep.PlannedRepos++
		}
		if r.filtered {
			rep.filtered++
		}
		rep.Repos = append(rep.Repos, r)
	}
	if runErr != nil {
		rep.Error = &reportError{Class: failure.ClassOf(runErr), Message: red.String(runErr.Error())}
	}
	rep.OK = runErr == nil && rep.FailedRepos == 0 && rep.DivergedRepos == 0 && rep.KeptRepos == 0
	return rep
}

// redactRepo returns r with every message redacted; its Result is copied,
// not changed in place.
func redactRepo(r repoResult, red *redactor) repoResult {
	r.Note = red.String(r.Note)
	if r.Error != nil {
		e := *r.Error
		e.Message = red.String(e.Message)
		r.Error = &e
	}
	if r.Result != nil {
		res := *r.Result
		res.LFS = redactLFS(r.Result.LFS, red)
		res.Refs = make([]mirror.RefResult, len(r.Result.Refs))
		for i, ref := range r.Result.Refs {
			ref.Message = red.String(ref.Message)
			res.Refs[i] = ref
		}
		r.Result = &res
	}
	return r
}

// setAccountOutputs sets the step outputs: changed, diverged, kept, failed,
// report.
func setAccountOutputs(c *console, rep *accountReport, reportPath string) error {
	return errors.Join(
		c.setOutput("changed", strconv.Itoa(rep.Changed)),
		c.setOutput("diverged", strconv.Itoa(rep.Diverged)),
		c.setOutput("kept", strconv.Itoa(rep.Kept)),
		c.setOutput(outConflicts, strconv.Itoa(rep.Conflicts)),
		c.setOutput("failed", strconv.Itoa(rep.FailedRepos)),
		c.setOutput(outReleases, strconv.Itoa(rep.Releases)),
		c.setOutput(outLFSObjects, strconv.Itoa(rep.LFSObjects)),
		c.setOutput("report", reportPath),
	)
}
