package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"

	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/logkey"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// HookSecret is a fresh webhook secret: 32 random bytes, hex.
func HookSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", errors.New("no randomness for a webhook secret")
	}
	return hex.EncodeToString(b), nil
}

// RegisterHook registers (or updates) the push webhook of m's side B on
// hooks, pointing at m.HookURL(base) with a fresh secret, and records it
// in st. It is the one way the App registers a hook: from a sync here, and
// from the settings page. A hook of an earlier attempt (same URL) is
// updated, not doubled (forge.Hooks.PutPushHook).
func RegisterHook(ctx context.Context, st store.Store, hooks forge.Hooks, m *store.Mirror, base string) error {
	secret, err := HookSecret()
	if err != nil {
		return err
	}
	id, err := hooks.PutPushHook(ctx, m.B.Owner, m.B.Name, m.HookRemoteID, m.HookURL(base), secret)
	if err != nil {
		return err
	}
	if err := st.SetMirrorHook(ctx, m.ID, secret, id); err != nil {
		// The site now signs with a secret the App does not know: the next
		// registration finds the hook by its URL and sets a new one.
		return err
	}
	m.HookRemoteID, m.HookSecret = id, secret
	return nil
}

// ensureHook registers the side-B webhook of a mirror fed from side B that
// has none (made from .github/gitee-mirror.yml, or on the settings page,
// which registers its own at once, when that failed), so that a push there reaches
// GitHub within seconds rather than at the next reconcile. Failing to
// register is logged, never a failed sync: the reconcile still catches the
// mirror up, and the next sync tries again.
func (r *DefaultRunner) ensureHook(ctx context.Context, log *slog.Logger, fb forge.Forge, m *store.Mirror) {
	if !m.Direction.FromB() || m.HookRemoteID != 0 || r.cfg.BaseURL == "" {
		return
	}
	hooks, ok := fb.(forge.Hooks)
	if !ok {
		return
	}
	if err := RegisterHook(ctx, r.cfg.Store, hooks, m, r.cfg.BaseURL); err != nil {
		log.Warn("could not register the Gitee webhook: pushes on Gitee reach GitHub at the next reconcile until it is; "+
			"the next sync tries again (the Gitee token needs the hook scope)", slog.String(logkey.Target, m.B.FullName()), slog.Any(logkey.Error, err))
		return
	}
	log.Info("Gitee webhook registered", slog.String(logkey.Target, m.B.FullName()), slog.Int64("gitee_hook_id", m.HookRemoteID))
}

// deleteHook removes the side-B webhook of a mirror about to be deleted,
// if it has one; failing is logged (the hook then answers 404s the site
// shows on the repository's webhook page).
func (r *DefaultRunner) deleteHook(ctx context.Context, log *slog.Logger, m *store.Mirror) {
	if m.HookRemoteID == 0 {
		return
	}
	err := func() error {
		cred, err := r.giteeToken(ctx, m)
		if err != nil {
			return err
		}
		fb, err := r.sideB(ctx, m, cred.Token)
		if err != nil {
			return err
		}
		hooks, ok := fb.(forge.Hooks)
		if !ok {
			return errors.New(fb.Name() + " has no webhooks")
		}
		return hooks.DeleteHook(ctx, m.B.Owner, m.B.Name, m.HookRemoteID)
	}()
	if err != nil {
		log.Warn("could not delete the Gitee webhook of a removed mirror: delete it on Gitee's webhook page",
			slog.String(logkey.Target, m.B.FullName()), slog.Int64("gitee_hook_id", m.HookRemoteID), slog.Any(logkey.Error, err))
		return
	}
	log.Info("Gitee webhook deleted", slog.String(logkey.Target, m.B.FullName()), slog.Int64("gitee_hook_id", m.HookRemoteID))
}
