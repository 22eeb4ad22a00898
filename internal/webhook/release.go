package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/google/go-github/v62/github"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// Release handles "release": a release published, edited, or turned into
// or out of a prerelease asks for a sync of every mirror of the repository
// that mirrors releases from GitHub, so that it reaches Gitee within
// seconds. The sync reads the releases afresh; drafts are never copied,
// and a release deleted or unpublished here stays on the target (a
// mirror never deletes releases), so those actions ask for nothing.
type Release struct {
	Store store.Store
	Queue Queue
}

var _ EventHandler = (*Release)(nil)

// Events implements EventHandler.
func (*Release) Events() []string { return []string{"release"} }

// releaseActions are the actions that may change what the target should
// hold.
var releaseActions = map[string]bool{"published": true, "released": true, "prereleased": true, "edited": true}

// Parse implements EventHandler.
func (h *Release) Parse(_ string, payload []byte) (*Task, error) {
	var ev github.ReleaseEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("malformed release payload: %w", err)
	}
	repo := ev.GetRepo()
	if repo.GetID() == 0 {
		return nil, errors.New("release payload without repository")
	}
	if !releaseActions[ev.GetAction()] || ev.GetRelease().GetDraft() {
		return nil, nil
	}
	owner, name := splitFullName(repo.GetFullName(), repo.GetOwner().GetLogin(), repo.GetName())
	inst, repoID := ev.GetInstallation().GetID(), repo.GetID()
	tag := ev.GetRelease().GetTagName()
	return &Task{
		Action:         "release " + ev.GetAction(),
		InstallationID: inst,
		Repo:           owner + "/" + name,
		// Releases of one repository waiting together ask for one sync.
		Key: fmt.Sprintf("release:%d:%d", inst, repoID),
		Run: func(ctx context.Context, log *slog.Logger) error {
			mirrors, err := h.Store.ListMirrors(ctx, store.MirrorFilter{GitHubRepoID: repoID})
			if err != nil {
				return fmt.Errorf("error listing mirrors: %w", err)
			}
			var fed []*store.Mirror
			for _, m := range mirrors {
				if m.Releases && m.Direction.FromA() {
					fed = append(fed, m)
				}
			}
			return requestSyncs(ctx, log.With("tag", tag), h.Queue, fed, store.TriggerRelease)
		},
	}, nil
}
