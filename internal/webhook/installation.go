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

// Installation handles "installation": the App installed (record it and
// read each listed repository's mirror configuration), uninstalled (forget
// it with its mirrors), suspended, unsuspended, or granted new permissions
// (retry its mirrors: a missing permission may have failed them).
type Installation struct {
	Store store.Store
	Queue Queue
}

var _ EventHandler = (*Installation)(nil)

// Events implements EventHandler.
func (*Installation) Events() []string { return []string{"installation"} }

// Parse implements EventHandler.
func (h *Installation) Parse(_ string, payload []byte) (*Task, error) {
	var ev github.InstallationEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, errors.New("malformed installation payload")
	}
	in := ev.GetInstallation()
	if in.GetID() == 0 {
		return nil, errors.New("installation payload without installation id")
	}
	id := in.GetID()
	task := &Task{Action: ev.GetAction(), InstallationID: id}
	switch ev.GetAction() {
	case "created":
		repos := ev.Repositories
		task.Run = func(ctx context.Context, log *slog.Logger) error {
			if err := upsertInstallation(ctx, h.Store, in); err != nil {
				return err
			}
			return applyConfigs(ctx, log, h.Queue, id, in.GetAccount().GetLogin(), repos)
		}
	case "deleted":
		task.Run = func(ctx context.Context, log *slog.Logger) error {
			if err := h.Store.DeleteInstallation(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("error deleting installation: %w", err)
			}
			log.InfoContext(ctx, "installation deleted with its mirrors")
			return nil
		}
	case "suspend", "unsuspend":
		suspended := ev.GetAction() == "suspend"
		task.Run = func(ctx context.Context, log *slog.Logger) error {
			if err := upsertInstallation(ctx, h.Store, in); err != nil {
				return err
			}
			if err := h.Store.SetInstallationSuspended(ctx, id, suspended); err != nil {
				return fmt.Errorf("error recording suspension: %w", err)
			}
			log.InfoContext(ctx, "installation suspension recorded", "suspended", suspended)
			return nil
		}
	case "new_permissions_accepted":
		task.Run = func(ctx context.Context, log *slog.Logger) error {
			if err := upsertInstallation(ctx, h.Store, in); err != nil {
				return err
			}
			mirrors, err := h.Store.ListMirrors(ctx, store.MirrorFilter{InstallationID: id})
			if err != nil {
				return fmt.Errorf("error listing mirrors: %w", err)
			}
			return requestSyncs(ctx, log, h.Queue, mirrors, store.TriggerPermissions)
		}
	default:
		return nil, nil
	}
	return task, nil
}

// upsertInstallation records an installation as a payload describes it.
func upsertInstallation(ctx context.Context, st store.Store, in *github.Installation) error {
	err := st.UpsertInstallation(ctx, store.Installation{
		ID:          in.GetID(),
		Account:     in.GetAccount().GetLogin(),
		AccountType: in.GetAccount().GetType(),
		Suspended:   in.SuspendedAt != nil,
	})
	if err != nil {
		return fmt.Errorf("error recording installation: %w", err)
	}
	return nil
}

// applyConfigs asks for the mirror configuration of each repository to be
// read. account is the owner when a payload lacks full names.
func applyConfigs(ctx context.Context, log *slog.Logger, q Queue, installationID int64, account string, repos []*github.Repository) error {
	for _, r := range repos {
		if r.GetID() == 0 {
			continue
		}
		owner, name := splitFullName(r.GetFullName(), account, r.GetName())
		if err := q.ApplyConfig(ctx, installationID, r.GetID(), owner, name); err != nil {
			return fmt.Errorf("error requesting the mirror configuration of %s/%s be read: %w", owner, name, err)
		}
		log.InfoContext(ctx, "mirror configuration to be read", logkey.Repo, owner+"/"+name)
	}
	return nil
}

// requestSyncs asks for a sync of each mirror, resuming those paused after
// failures. A mirror deleted since it was listed is skipped.
func requestSyncs(ctx context.Context, log *slog.Logger, q Queue, mirrors []*store.Mirror, trigger store.Trigger) error {
	return requestEach(ctx, log, mirrors, func(id int64) error { return q.RequestSync(ctx, id, trigger, true) })
}

// requestEach asks for a sync of each mirror with request, skipping
// mirrors deleted meanwhile.
func requestEach(ctx context.Context, log *slog.Logger, mirrors []*store.Mirror, request func(mirrorID int64) error) error {
	for _, m := range mirrors {
		err := request(m.ID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("error requesting sync of mirror %d: %w", m.ID, err)
		}
		log.InfoContext(ctx, "sync requested", logkey.MirrorID, m.ID, logkey.Repo, m.A.FullName())
	}
	return nil
}
