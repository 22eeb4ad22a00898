package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/logkey"
	"github.com/gitee-mirror/gitee-mirror/internal/repoconfig"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// maxPushCommits is the most commits a push payload lists; a push with as
// many may have had more, so the list cannot show whether repoconfig.Path changed.
const maxPushCommits = 2048

// Push handles "push": branch and tag pushes, creations and deletions. It
// asks for a sync of every mirror fed from GitHub, and for the mirror
// configuration to be re-read when the push may have changed repoconfig.Path on
// the default branch (also for a repository without mirrors yet).
type Push struct {
	Store store.Store
	Queue Queue
}

var _ EventHandler = (*Push)(nil)

// Events implements EventHandler.
func (*Push) Events() []string { return []string{"push"} }

// pushEvent is what Parse reads of a push payload: the fields of
// github.PushEvent it uses, nothing else. Decoding into go-github's whole
// event (every URL, the pusher, the sender, each commit's author…) was a
// quarter of the App's CPU at 1,000 deliveries a second (issue 13), on
// the acknowledgement's path and again in the forwarder.
type pushEvent struct {
	Ref     string `json:"ref"`
	After   string `json:"after,omitempty"`
	Created bool   `json:"created"`
	Deleted bool   `json:"deleted"`
	Forced  bool   `json:"forced"`
	Repo    *struct {
		ID            int64  `json:"id"`
		Name          string `json:"name"`
		FullName      string `json:"full_name"`
		DefaultBranch string `json:"default_branch"`
		Owner         *struct {
			Login string `json:"login"`
		} `json:"owner"`
	} `json:"repository"`
	Installation *struct {
		ID int64 `json:"id"`
	} `json:"installation,omitempty"`
	Commits []pushCommit `json:"commits,omitempty"`
	// Config is set in the inbox's record only (Task.Record): whether the
	// push may have changed repoconfig.Path, as the intake decided from the
	// commit list that the record leaves out. GitHub's payloads have no
	// such field; one signed with the App's secret that had would be
	// trusted as the rest of it is.
	Config *bool `json:"gitee_mirror_config,omitempty"`
}

type pushCommit struct {
	Added    []string `json:"added"`
	Removed  []string `json:"removed"`
	Modified []string `json:"modified"`
}

// Parse implements EventHandler.
func (h *Push) Parse(_ string, payload []byte) (*Task, error) {
	var ev pushEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, errors.New("malformed push payload")
	}
	repo := ev.Repo
	if repo == nil || repo.ID == 0 || ev.Ref == "" {
		return nil, errors.New("push payload without repository or ref")
	}
	login := ""
	if repo.Owner != nil {
		login = repo.Owner.Login
	}
	var inst int64
	if ev.Installation != nil {
		inst = ev.Installation.ID
	}
	owner, name := splitFullName(repo.FullName, login, repo.Name)
	repoID, ref := repo.ID, ev.Ref
	applyConfig := inst != 0 && mayChangeConfig(&ev)
	hints := pushHints(&ev)
	record, err := pushRecord(&ev, applyConfig)
	if err != nil {
		return nil, err
	}
	// fed lists the mirrors the pushed repository feeds.
	fed := func(ctx context.Context) ([]*store.Mirror, error) {
		mirrors, err := h.Store.ListMirrors(ctx, store.MirrorFilter{GitHubRepoID: repoID})
		if err != nil {
			return nil, fmt.Errorf("error listing mirrors: %w", err)
		}
		var out []*store.Mirror
		for _, m := range mirrors {
			if m.Direction.FromA() {
				out = append(out, m)
			}
		}
		return out, nil
	}
	task := &Task{
		Action:         pushAction(&ev),
		InstallationID: inst,
		Repo:           owner + "/" + name,
		// Pushes to one repository ask for the same work; whether the
		// config is read makes it different work.
		Key:    fmt.Sprintf("push:%d:%d:%t", inst, repoID, applyConfig),
		Record: record,
		Run: func(ctx context.Context, log *slog.Logger) error {
			fed, err := fed(ctx)
			if err != nil {
				return err
			}
			if err := requestPushSyncs(ctx, log.With(logkey.Ref, ref), h.Queue, fed, hints); err != nil {
				return err
			}
			if applyConfig {
				if err := h.Queue.ApplyConfig(ctx, inst, repoID, owner, name); err != nil {
					return fmt.Errorf("error requesting the mirror configuration be read: %w", err)
				}
				log.InfoContext(ctx, "mirror configuration to be re-read", logkey.Ref, ref)
			}
			return nil
		},
	}
	if !applyConfig {
		// Requesting syncs is all the work: the Forwarder may request
		// them with other deliveries' (Task.Syncs).
		task.Syncs = func(ctx context.Context) ([]store.SyncRequest, error) {
			fed, err := fed(ctx)
			if err != nil {
				return nil, err
			}
			reqs := make([]store.SyncRequest, len(fed))
			for i, m := range fed {
				reqs[i] = store.SyncRequest{MirrorID: m.ID, Trigger: store.TriggerPush, Resume: true, Hints: hints}
			}
			return reqs, nil
		}
	}
	return task, nil
}

// HintedQueue is a Queue that can pass what a push says a ref now is to
// the sync it asks for (mirror.Options.Hints), which may then fetch the
// new commit while it lists both sides. jobs.Queue is one.
type HintedQueue interface {
	// RequestSyncHinted is RequestSync with hints: full ref name → commit id.
	RequestSyncHinted(ctx context.Context, mirrorID int64, trigger store.Trigger, resume bool, hints map[string]string) error
}

// pushHints is what a push says its ref now is; nil for a deletion or a
// tag (whose "after" may be a tag object or its commit). The sync checks
// the id itself (mirror.Options.Hints drops what is not one).
func pushHints(ev *pushEvent) map[string]string {
	if ev.Deleted || ev.After == "" || !strings.HasPrefix(ev.Ref, "refs/heads/") {
		return nil
	}
	return map[string]string{ev.Ref: ev.After}
}

// requestPushSyncs asks for a sync of each mirror, with the push's hints
// when the queue takes them.
func requestPushSyncs(ctx context.Context, log *slog.Logger, q Queue, mirrors []*store.Mirror, hints map[string]string) error {
	hq, ok := q.(HintedQueue)
	if !ok || hints == nil {
		return requestSyncs(ctx, log, q, mirrors, store.TriggerPush)
	}
	return requestEach(ctx, log, mirrors, func(id int64) error {
		return hq.RequestSyncHinted(ctx, id, store.TriggerPush, true, hints)
	})
}

// pushRecord is what the inbox keeps of a push (Task.Record): the fields
// Parse reads, with the commit list replaced by the decision taken from it.
func pushRecord(ev *pushEvent, config bool) ([]byte, error) {
	rec := *ev
	rec.Commits, rec.Config = nil, &config
	b, err := json.Marshal(&rec)
	if err != nil {
		return nil, fmt.Errorf("error recording push payload: %w", err)
	}
	return b, nil
}

// mayChangeConfig reports whether a push to the default branch may have
// changed repoconfig.Path. When the commit list cannot tell (truncated, empty,
// history rewritten, branch created) it says yes: reading the file once
// more is cheap, missing a change is not. A record (pushRecord) carries
// the answer.
func mayChangeConfig(ev *pushEvent) bool {
	if ev.Config != nil {
		return *ev.Config
	}
	def := ev.Repo.DefaultBranch
	if def == "" || ev.Ref != "refs/heads/"+def || ev.Deleted {
		return false
	}
	if ev.Forced || ev.Created || len(ev.Commits) == 0 || len(ev.Commits) >= maxPushCommits {
		return true
	}
	for _, c := range ev.Commits {
		if slices.Contains(c.Added, repoconfig.Path) || slices.Contains(c.Modified, repoconfig.Path) || slices.Contains(c.Removed, repoconfig.Path) {
			return true
		}
	}
	return false
}

// pushAction describes a push for logs: "branch pushed", "tag created"…
func pushAction(ev *pushEvent) string {
	kind := "ref"
	switch {
	case strings.HasPrefix(ev.Ref, "refs/heads/"):
		kind = "branch"
	case strings.HasPrefix(ev.Ref, "refs/tags/"):
		kind = "tag"
	}
	switch {
	case ev.Created:
		return kind + " created"
	case ev.Deleted:
		return kind + " deleted"
	case ev.Forced:
		return kind + " force-pushed"
	}
	return kind + " pushed"
}

// splitFullName returns owner and name from "owner/name", falling back to
// the separate fields.
func splitFullName(full, owner, name string) (string, string) {
	if o, n, ok := strings.Cut(full, "/"); ok && o != "" && n != "" {
		return o, n
	}
	return owner, name
}
