package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"strconv"

	"github.com/gitee-mirror/gitee-mirror/internal/logkey"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

func mirrorKey(id int64) string { return "mirror:" + strconv.FormatInt(id, 10) }
func repoKey(id int64) string   { return "repo:" + strconv.FormatInt(id, 10) }

// RequestSync asks for a sync of one mirror: it bumps the mirror's request
// sequence (with resume, a mirror paused after failures is resumed; one
// paused by a person is not) and enqueues a sync job unless one is already
// waiting or running, which then picks the request up. A job waiting to
// retry after a failure, or for its turn in a reconcile round, is made to
// run now, except for reconcile requests; a follow-up waiting out
// SyncSpacing is not (bringForward).
func (q *Queue) RequestSync(ctx context.Context, mirrorID int64, trigger store.Trigger, resume bool) error {
	return q.requestSync(ctx, SyncArgs{MirrorID: mirrorID, Trigger: trigger}, resume)
}

// RequestSyncHinted is RequestSync for a push that said what its ref now
// is (webhook.HintedQueue): a job it inserts passes hints on to the sync's
// first run (mirror.Options.Hints), which may then fetch the pushed commit
// while it lists both sides.
func (q *Queue) RequestSyncHinted(ctx context.Context, mirrorID int64, trigger store.Trigger, resume bool, hints map[string]string) error {
	return q.requestSync(ctx, SyncArgs{MirrorID: mirrorID, Trigger: trigger, Hints: hints}, resume)
}

func (q *Queue) requestSync(ctx context.Context, args SyncArgs, resume bool) error {
	mirrorID, trigger := args.MirrorID, args.Trigger
	unlock, err := q.cfg.DB.LockKey(ctx, mirrorKey(mirrorID))
	if err != nil {
		return err
	}
	defer unlock()
	args.Seq, err = q.cfg.Store.RequestSync(ctx, mirrorID, resume)
	if err != nil {
		return fmt.Errorf("error recording sync request for mirror %d: %w", mirrorID, err)
	}
	q.mu.Lock()
	q.triggers[mirrorID] = trigger
	q.mu.Unlock()
	res, err := q.client.Insert(ctx, args, &river.InsertOpts{MaxAttempts: q.cfg.maxAttempts()})
	if err != nil {
		return fmt.Errorf("error enqueueing sync of mirror %d: %w", mirrorID, err)
	}
	return q.joined(ctx, res, mirrorID, trigger)
}

// joined finishes a request under the mirror's lock once its job was
// inserted: when the request joined a live job instead, a waiting one is
// brought forward (bringForward) and one whose worker may have died is
// replaced (rescueLocked).
func (q *Queue) joined(ctx context.Context, res *rivertype.JobInsertResult, mirrorID int64, trigger store.Trigger) error {
	q.forward(ctx, res, mirrorID, trigger)
	if res.UniqueSkippedAsDuplicate && q.mayBeDead(res.Job) {
		// The job this request would join may be one whose worker died:
		// if its lease lapsed, a fresh job takes its place now, without
		// waiting for the sweeper.
		if _, err := q.rescueLocked(ctx, res.Job, mirrorID, trigger, false); err != nil {
			return err
		}
	}
	return nil
}

// takeTrigger returns the trigger of the latest request for a mirror since
// the last take, or def. A job started by a reconcile that a push joined
// meanwhile records the push.
func (q *Queue) takeTrigger(mirrorID int64, def store.Trigger) store.Trigger {
	q.mu.Lock()
	defer q.mu.Unlock()
	if t, ok := q.triggers[mirrorID]; ok {
		delete(q.triggers, mirrorID)
		return t
	}
	return def
}

// enqueueSync inserts a sync job; a duplicate of a live job is dropped.
func (q *Queue) enqueueSync(ctx context.Context, mirrorID int64, trigger store.Trigger) error {
	res, err := q.client.Insert(ctx, SyncArgs{MirrorID: mirrorID, Trigger: trigger}, &river.InsertOpts{MaxAttempts: q.cfg.maxAttempts()})
	if err != nil {
		return fmt.Errorf("error enqueueing sync of mirror %d: %w", mirrorID, err)
	}
	q.forward(ctx, res, mirrorID, trigger)
	return nil
}

// forward brings the live job a request joined forward when it waits and
// should not (bringForward).
func (q *Queue) forward(ctx context.Context, res *rivertype.JobInsertResult, mirrorID int64, trigger store.Trigger) {
	if res.UniqueSkippedAsDuplicate && trigger != store.TriggerReconcile && bringForward(res.Job) {
		if _, err := q.client.JobRetry(ctx, res.Job.ID); err != nil {
			q.log.Warn("could not bring a waiting sync forward", slog.Int64(logkey.MirrorID, mirrorID), slog.Any(logkey.Error, err))
		}
	}
}

// bringForward reports whether a push should make a waiting sync job run
// now. A push should not wait out the backoff of an earlier failure (the
// job is retryable), nor its mirror's turn in a spread reconcile round (the
// job was inserted scheduled and has never run). A scheduled job that has
// run was snoozed by its own worker: River schedules retries as retryable,
// so only a snooze makes a job that ran scheduled. That is a follow-up
// waiting out SyncSpacing, which the next push of a storm would otherwise
// defeat, or a job waiting for another worker's lease, which a push does
// not free. The push loses nothing by waiting: the job syncs from the
// requests it finds when it starts. (A snooze shorter than River's
// scheduler interval leaves the job available, due later: not brought
// forward either.)
func bringForward(j *rivertype.JobRow) bool {
	switch j.State {
	case rivertype.JobStateRetryable:
		return true
	case rivertype.JobStateScheduled:
		return j.AttemptedAt == nil
	}
	return false
}

// ApplyConfig asks for the repository's .github/gitee-mirror.yml to be read
// again and its mirrors created, updated or deleted accordingly; the mirrors
// that changed are then synced.
func (q *Queue) ApplyConfig(ctx context.Context, installationID, repoID int64, owner, name string) error {
	unlock, err := q.cfg.DB.LockKey(ctx, repoKey(repoID))
	if err != nil {
		return err
	}
	defer unlock()
	// Counted in the database: the job may run on another replica.
	if _, err := q.cfg.Store.BumpCounter(ctx, repoKey(repoID)); err != nil {
		return fmt.Errorf("error recording a config read request for %s/%s: %w", owner, name, err)
	}
	args := ApplyConfigArgs{InstallationID: installationID, RepoID: repoID, Owner: owner, Name: name}
	if _, err := q.client.Insert(ctx, args, nil); err != nil {
		return fmt.Errorf("error enqueueing config read of %s/%s: %w", owner, name, err)
	}
	return nil
}

// configSeq is the number of config requests for a repository so far, on
// every replica.
func (q *Queue) configSeq(ctx context.Context, repoID int64) (int64, error) {
	n, err := q.cfg.Store.Counter(ctx, repoKey(repoID))
	if err != nil {
		return 0, fmt.Errorf("error reading the config read requests of repository %d: %w", repoID, err)
	}
	return n, nil
}

// Reconcile enqueues a drift check of every active mirror now, as the
// periodic job does.
func (q *Queue) Reconcile(ctx context.Context) error {
	if _, err := q.client.Insert(ctx, ReconcileArgs{}, nil); err != nil {
		return fmt.Errorf("error enqueueing reconcile: %w", err)
	}
	return nil
}

// RequestSyncs is RequestSync (or RequestSyncHinted) for several mirrors at
// once, as the webhook forwarder asks for the mirrors of a batch of
// deliveries: the mirrors' locks are taken together, their requests counted
// in one statement and their jobs inserted in one, where one request each
// costs a round trip to the database for every step. A mirror asked for
// twice is requested once, with the last request's trigger and both
// requests' hints (the later one's winning for a ref in both); resumed if
// either asks. Mirrors that no longer exist are skipped, as RequestSync
// reports them (store.ErrNotFound). It returns the ids requested.
func (q *Queue) RequestSyncs(ctx context.Context, reqs []store.SyncRequest) ([]int64, error) {
	reqs = mergeRequests(reqs)
	if len(reqs) == 0 {
		return nil, nil
	}
	keys := make([]string, len(reqs))
	var resumed, kept []int64
	for i, r := range reqs {
		keys[i] = mirrorKey(r.MirrorID)
		if r.Resume {
			resumed = append(resumed, r.MirrorID)
		} else {
			kept = append(kept, r.MirrorID)
		}
	}
	unlock, err := q.cfg.DB.LockKeys(ctx, keys)
	if err != nil {
		return nil, err
	}
	defer unlock()
	seqs := map[int64]int64{}
	for _, part := range []struct {
		ids    []int64
		resume bool
	}{{resumed, true}, {kept, false}} {
		if len(part.ids) == 0 {
			continue
		}
		got, err := q.cfg.Store.RequestSyncs(ctx, part.ids, part.resume)
		if err != nil {
			return nil, fmt.Errorf("error recording sync requests for %d mirrors: %w", len(part.ids), err)
		}
		maps.Copy(seqs, got)
	}
	var params []river.InsertManyParams
	var done []store.SyncRequest
	q.mu.Lock()
	for _, r := range reqs {
		seq, ok := seqs[r.MirrorID]
		if !ok {
			continue // deleted meanwhile
		}
		q.triggers[r.MirrorID] = r.Trigger
		done = append(done, r)
		params = append(params, river.InsertManyParams{
			Args:       SyncArgs{MirrorID: r.MirrorID, Trigger: r.Trigger, Hints: r.Hints, Seq: seq},
			InsertOpts: &river.InsertOpts{MaxAttempts: q.cfg.maxAttempts()},
		})
	}
	q.mu.Unlock()
	if len(params) == 0 {
		return nil, nil
	}
	res, err := q.client.InsertMany(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("error enqueueing syncs of %d mirrors: %w", len(params), err)
	}
	ids := make([]int64, len(done))
	for i, r := range done {
		ids[i] = r.MirrorID
		if err := q.joined(ctx, res[i], r.MirrorID, r.Trigger); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// mergeRequests returns reqs with one request per mirror, in the order of
// each mirror's first: the last trigger, hints merged, resumed if any was.
func mergeRequests(reqs []store.SyncRequest) []store.SyncRequest {
	at := make(map[int64]int, len(reqs))
	out := make([]store.SyncRequest, 0, len(reqs))
	for _, r := range reqs {
		i, ok := at[r.MirrorID]
		if !ok {
			at[r.MirrorID] = len(out)
			out = append(out, r)
			continue
		}
		m := &out[i]
		m.Trigger, m.Resume = r.Trigger, m.Resume || r.Resume
		if len(r.Hints) > 0 {
			h := maps.Clone(m.Hints)
			if h == nil {
				h = map[string]string{}
			}
			maps.Copy(h, r.Hints)
			m.Hints = h
		}
	}
	return out
}
