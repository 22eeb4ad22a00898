package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"

	"github.com/gitee-mirror/gitee-mirror/internal/gitee"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// ensureHook registers the Gitee webhook of a pull mirror that has none
// (made from .github/gitee-mirror.yml or the admin endpoint; the settings
// page registers its own at once), so that a push on Gitee reaches GitHub
// within seconds rather than at the next reconcile. It uses signature mode
// with a fresh secret. A hook of an earlier attempt (same URL) is updated,
// not doubled (gitee.Client.PutHook). Failing to register is logged, never a failed sync: the
// reconcile still catches the mirror up, and the next sync tries again.
func (r *DefaultRunner) ensureHook(ctx context.Context, log *slog.Logger, gc *gitee.Client, m *store.Mirror) {
	if m.Direction != store.Pull || m.GiteeHookRemoteID != 0 || r.cfg.HookURL == nil {
		return
	}
	url := r.cfg.HookURL(m)
	if url == "" {
		return
	}
	warn := func(err error) {
		log.Warn("could not register the Gitee webhook: pushes on Gitee reach GitHub at the next reconcile until it is; "+
			"the next sync tries again (the Gitee token needs the hook scope)", slog.String("target", m.FullGiteeName()), slog.Any("error", err))
	}
	secret, err := hookSecret()
	if err != nil {
		warn(err)
		return
	}
	o := gitee.HookOptions{URL: url, EncryptionType: gitee.SignatureMode, Password: secret, PushEvents: true, TagPushEvents: true}
	hook, err := gc.PutHook(ctx, m.GiteeOwner, m.GiteeName, 0, o)
	if err != nil {
		warn(err)
		return
	}
	if err := r.cfg.Store.SetMirrorHook(ctx, m.ID, secret, hook.ID); err != nil {
		// Gitee now signs with a secret the App does not know: the next
		// sync finds the hook by its URL and sets a new one.
		warn(err)
		return
	}
	m.GiteeHookRemoteID, m.HookSecret = hook.ID, secret
	log.Info("Gitee webhook registered", slog.String("target", m.FullGiteeName()), slog.Int64("gitee_hook_id", hook.ID))
}

// deleteHook removes the Gitee webhook of a mirror about to be deleted, if
// it has one; failing is logged (the hook then answers 404s Gitee shows
// on the repository's webhook page).
func (r *DefaultRunner) deleteHook(ctx context.Context, log *slog.Logger, m *store.Mirror) {
	if m.GiteeHookRemoteID == 0 {
		return
	}
	err := func() error {
		cred, err := r.giteeToken(ctx, m)
		if err != nil {
			return err
		}
		gc, _, err := r.gitee(ctx, cred.Token)
		if err != nil {
			return err
		}
		return gc.DeleteHook(ctx, m.GiteeOwner, m.GiteeName, m.GiteeHookRemoteID)
	}()
	if err != nil {
		log.Warn("could not delete the Gitee webhook of a removed mirror: delete it on Gitee's webhook page",
			slog.String("target", m.FullGiteeName()), slog.Int64("gitee_hook_id", m.GiteeHookRemoteID), slog.Any("error", err))
		return
	}
	log.Info("Gitee webhook deleted", slog.String("target", m.FullGiteeName()), slog.Int64("gitee_hook_id", m.GiteeHookRemoteID))
}

// hookSecret is a fresh webhook secret: 32 random bytes, hex.
func hookSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", errors.New("no randomness for a webhook secret")
	}
	return hex.EncodeToString(b), nil
}
