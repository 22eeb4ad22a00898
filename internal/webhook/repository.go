package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/google/go-github/v62/github"

	"github.com/gitee-mirror/gitee-mirror/internal/logkey"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// Repository handles "repository": a renamed or transferred repository's
// mirrors follow it (they are keyed by the repository id); a deleted one's
// mirrors go; an archived one's are paused, and resumed when it is
// unarchived.
type Repository struct {
	Store store.Store
	Queue Queue
}

var _ EventHandler = (*Repository)(nil)

// Events implements EventHandler.
func (*Repository) Events() []string { return []string{"repository"} }

// Parse implements EventHandler.
func (h *Repository) Parse(_ string, payload []byte) (*Task, error) {
	var ev github.RepositoryEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, errors.New("malformed repository payload")
	}
	r := ev.GetRepo()
	if r.GetID() == 0 {
		return nil, errors.New("repository payload without repository id")
	}
	repoID := r.GetID()
	owner, name := splitFullName(r.GetFullName(), r.GetOwner().GetLogin(), r.GetName())
	task := &Task{Action: ev.GetAction(), InstallationID: ev.GetInstallation().GetID(), Repo: owner + "/" + name}
	switch ev.GetAction() {
	case "renamed", "transferred":
		if owner == "" || name == "" {
			return nil, errors.New("repository payload without owner or name")
		}
		task.Run = func(ctx context.Context, log *slog.Logger) error {
			if err := h.Store.RenameRepository(ctx, repoID, owner, name); err != nil && !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("error recording the new name: %w", err)
			}
			log.InfoContext(ctx, "repository renamed")
			return nil
		}
	case "deleted":
		task.Run = func(ctx context.Context, log *slog.Logger) error {
			return deleteMirrors(ctx, log, h.Store, store.MirrorFilter{GitHubRepoID: repoID})
		}
	case "archived":
		task.Run = func(ctx context.Context, log *slog.Logger) error {
			return h.forEach(ctx, repoID, func(m *store.Mirror) error {
				if err := h.Store.SetPaused(ctx, m.ID, true, ArchivedReason); err != nil {
					return fmt.Errorf("error pausing mirror %d: %w", m.ID, err)
				}
				log.InfoContext(ctx, "mirror paused", logkey.MirrorID, m.ID)
				return nil
			})
		}
	case "unarchived":
		task.Run = func(ctx context.Context, log *slog.Logger) error {
			return h.forEach(ctx, repoID, func(m *store.Mirror) error {
				if !m.Paused || m.PausedReason != ArchivedReason {
					return nil // paused for another reason, by someone: leave it
				}
				if err := h.Store.SetPaused(ctx, m.ID, false, ""); err != nil {
					return fmt.Errorf("error resuming mirror %d: %w", m.ID, err)
				}
				if err := h.Queue.RequestSync(ctx, m.ID, store.TriggerUnarchived, true); err != nil {
					return fmt.Errorf("error requesting sync of mirror %d: %w", m.ID, err)
				}
				log.InfoContext(ctx, "mirror resumed", logkey.MirrorID, m.ID)
				return nil
			})
		}
	default:
		return nil, nil
	}
	return task, nil
}

// forEach calls fn for every mirror of a repository.
func (h *Repository) forEach(ctx context.Context, repoID int64, fn func(*store.Mirror) error) error {
	mirrors, err := h.Store.ListMirrors(ctx, store.MirrorFilter{GitHubRepoID: repoID})
	if err != nil {
		return fmt.Errorf("error listing mirrors: %w", err)
	}
	for _, m := range mirrors {
		if err := fn(m); err != nil {
			return err
		}
	}
	return nil
}
