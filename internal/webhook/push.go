package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/google/go-github/v62/github"

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

// Parse implements EventHandler.
func (h *Push) Parse(_ string, payload []byte) (*Task, error) {
	var ev github.PushEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, errors.New("malformed push payload")
	}
	repo := ev.GetRepo()
	if repo.GetID() == 0 || ev.GetRef() == "" {
		return nil, errors.New("push payload without repository or ref")
	}
	owner, name := splitFullName(repo.GetFullName(), repo.GetOwner().GetLogin(), repo.GetName())
	inst, repoID, ref := ev.GetInstallation().GetID(), repo.GetID(), ev.GetRef()
	applyConfig := inst != 0 && mayChangeConfig(&ev)
	return &Task{
		Action:         pushAction(&ev),
		InstallationID: inst,
		Repo:           owner + "/" + name,
		// Pushes to one repository ask for the same work; whether the
		// config is read makes it different work.
		Key: fmt.Sprintf("push:%d:%d:%t", inst, repoID, applyConfig),
		Run: func(ctx context.Context, log *slog.Logger) error {
			mirrors, err := h.Store.ListMirrors(ctx, store.MirrorFilter{GitHubRepoID: repoID})
			if err != nil {
				return fmt.Errorf("error listing mirrors: %w", err)
			}
			var fed []*store.Mirror
			for _, m := range mirrors {
				if m.Direction.FromA() {
					fed = append(fed, m)
				}
			}
			if err := requestSyncs(ctx, log.With(logkey.Ref, ref), h.Queue, fed, store.TriggerPush); err != nil {
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
	}, nil
}

// mayChangeConfig reports whether a push to the default branch may have
// changed repoconfig.Path. When the commit list cannot tell (truncated, empty,
// history rewritten, branch created) it says yes: reading the file once
// more is cheap, missing a change is not.
func mayChangeConfig(ev *github.PushEvent) bool {
	def := ev.GetRepo().GetDefaultBranch()
	if def == "" || ev.GetRef() != "refs/heads/"+def || ev.GetDeleted() {
		return false
	}
	if ev.GetForced() || ev.GetCreated() || len(ev.Commits) == 0 || len(ev.Commits) >= maxPushCommits {
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
func pushAction(ev *github.PushEvent) string {
	kind := "ref"
	switch {
	case strings.HasPrefix(ev.GetRef(), "refs/heads/"):
		kind = "branch"
	case strings.HasPrefix(ev.GetRef(), "refs/tags/"):
		kind = "tag"
	}
	switch {
	case ev.GetCreated():
		return kind + " created"
	case ev.GetDeleted():
		return kind + " deleted"
	case ev.GetForced():
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
