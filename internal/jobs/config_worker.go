package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/riverqueue/river"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/logkey"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// configWorker runs ApplyConfigArgs jobs.
type configWorker struct {
	river.WorkerDefaults[ApplyConfigArgs]
	q *Queue
}

// Work has the Runner apply the repository's config file, then requests a
// sync (trigger "config") of every mirror it created or changed.
func (w *configWorker) Work(ctx context.Context, job *river.Job[ApplyConfigArgs]) error {
	q, a := w.q, job.Args
	log := q.log.With(slog.Int64(logkey.InstallationID, a.InstallationID), slog.String(logkey.Repo, a.Owner+"/"+a.Name), slog.Int64(logkey.JobID, job.ID))
	seq, err := q.configSeq(ctx, a.RepoID)
	if err != nil {
		return err
	}
	moved := func(ctx context.Context) (bool, error) {
		now, err := q.configSeq(ctx, a.RepoID)
		return now != seq, err
	}

	filter := store.MirrorFilter{InstallationID: a.InstallationID, GitHubRepoID: a.RepoID}
	before, err := q.cfg.Store.ListMirrors(ctx, filter)
	if err != nil {
		return fmt.Errorf("error listing mirrors of %s/%s: %w", a.Owner, a.Name, err)
	}
	if err := q.cfg.Runner.ApplyConfig(ctx, a.InstallationID, a.RepoID, a.Owner, a.Name); err != nil {
		if ctx.Err() != nil && q.stopping.Load() {
			return river.JobSnooze(0) // interrupted by Stop: back to the queue
		}
		log.Warn("could not apply the mirror settings file", slog.String(logkey.ErrorClass, string(failure.ClassOf(err))), slog.Any(logkey.Error, err))
		if failure.IsTransient(err) {
			return err
		}
		return settle(ctx, q, repoKey(a.RepoID), job, time.Time{}, moved, err)
	}
	after, err := q.cfg.Store.ListMirrors(ctx, filter)
	if err != nil {
		return fmt.Errorf("error listing mirrors of %s/%s: %w", a.Owner, a.Name, err)
	}
	var errs []error
	for _, m := range changed(before, after) {
		if err := q.RequestSync(ctx, m.ID, store.TriggerConfig, false); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return settle(ctx, q, repoKey(a.RepoID), job, time.Time{}, moved, nil)
}

// changed returns the mirrors of after that are new or whose settings
// differ from before.
func changed(before, after []*store.Mirror) []*store.Mirror {
	old := make(map[int64]*store.Mirror, len(before))
	for _, m := range before {
		old[m.ID] = m
	}
	var out []*store.Mirror
	for _, m := range after {
		if o, ok := old[m.ID]; !ok || !SameSettings(o, m) {
			out = append(out, m)
		}
	}
	return out
}

// SameSettings reports whether two mirrors sync the same way: same target,
// direction, filters and policy. Where the settings came from does not
// count.
func SameSettings(a, b *store.Mirror) bool {
	return a.B.Owner == b.B.Owner && a.B.Name == b.B.Name && a.Direction == b.Direction &&
		slices.Equal(a.Branches, b.Branches) && slices.Equal(a.Tags, b.Tags) && a.NoTags == b.NoTags &&
		a.Force == b.Force && a.Prune == b.Prune && a.CreateMissing == b.CreateMissing && a.Visibility == b.Visibility &&
		a.Releases == b.Releases && a.LFS == b.LFS
}
