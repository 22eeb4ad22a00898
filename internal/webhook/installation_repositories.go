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

// InstallationRepositories handles "installation_repositories":
// repositories added to an installation get their mirror configuration
// read; removed ones lose their mirrors.
type InstallationRepositories struct {
	Store store.Store
	Queue Queue
}

var _ EventHandler = (*InstallationRepositories)(nil)

// Events implements EventHandler.
func (*InstallationRepositories) Events() []string { return []string{"installation_repositories"} }

// Parse implements EventHandler.
func (h *InstallationRepositories) Parse(_ string, payload []byte) (*Task, error) {
	var ev github.InstallationRepositoriesEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, errors.New("malformed installation_repositories payload")
	}
	in := ev.GetInstallation()
	if in.GetID() == 0 {
		return nil, errors.New("installation_repositories payload without installation id")
	}
	id := in.GetID()
	task := &Task{Action: ev.GetAction(), InstallationID: id}
	switch ev.GetAction() {
	case "added":
		repos := ev.RepositoriesAdded
		task.Run = func(ctx context.Context, log *slog.Logger) error {
			// The installation may predate this server: record it first.
			if err := upsertInstallation(ctx, h.Store, in); err != nil {
				return err
			}
			return applyConfigs(ctx, log, h.Queue, id, in.GetAccount().GetLogin(), repos)
		}
	case "removed":
		repos := ev.RepositoriesRemoved
		task.Run = func(ctx context.Context, log *slog.Logger) error {
			for _, r := range repos {
				if err := deleteMirrors(ctx, log, h.Store, store.MirrorFilter{InstallationID: id, GitHubRepoID: r.GetID()}); err != nil {
					return err
				}
			}
			return nil
		}
	default:
		return nil, nil
	}
	return task, nil
}

// deleteMirrors deletes the mirrors f selects (none when f names no
// repository).
func deleteMirrors(ctx context.Context, log *slog.Logger, st store.Store, f store.MirrorFilter) error {
	if f.GitHubRepoID == 0 {
		return nil
	}
	mirrors, err := st.ListMirrors(ctx, f)
	if err != nil {
		return fmt.Errorf("error listing mirrors: %w", err)
	}
	for _, m := range mirrors {
		if err := st.DeleteMirror(ctx, m.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("error deleting mirror %d: %w", m.ID, err)
		}
		log.InfoContext(ctx, "mirror deleted", logkey.MirrorID, m.ID, logkey.Repo, m.A.FullName())
	}
	return nil
}
