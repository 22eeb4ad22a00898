package settings

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/config"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// setupCodeField is the register form's field for the set-up code.
const setupCodeField = "setup_code"

// newSetupCode returns 100 random bits as 20 base32 letters and digits in
// groups of five: easy to copy from a log line, too many to guess.
func newSetupCode() string {
	b := make([]byte, 13)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	s := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)[:20]
	return s[0:5] + "-" + s[5:10] + "-" + s[10:15] + "-" + s[15:20]
}

// normalSetupCode drops what people add or change when they copy a code:
// case, dashes and spaces.
func normalSetupCode(s string) string {
	return strings.NewReplacer("-", "", " ", "", "\t", "").Replace(strings.ToUpper(strings.TrimSpace(s)))
}

// SettingSetupCode keeps the set-up code (encrypted) while no App is
// registered, so that every replica logs and accepts the same code.
const SettingSetupCode = "registration.setup_code"

// setupCode returns the current set-up code; "" when none was made yet.
func (h *Handler) setupCode(ctx context.Context) (string, error) {
	if h.opts.SetupCode != "" {
		return h.opts.SetupCode, nil
	}
	code, err := h.opts.Store.Setting(ctx, SettingSetupCode)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return code, err
}

// setupCodeOK compares in constant time; with no code made yet, nothing
// matches.
func (h *Handler) setupCodeOK(ctx context.Context, given string) bool {
	code, err := h.setupCode(ctx)
	if err != nil {
		h.log.ErrorContext(ctx, "error reading the set-up code", "error", err)
		return false
	}
	if code == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(normalSetupCode(given)), []byte(normalSetupCode(code))) == 1
}

// AnnounceSetupCode logs the one-time set-up code that the register pages
// ask for, while this server has no GitHub App: only someone who can read
// the server's log can register an App for it (as Jenkins and Grafana
// do), however the server is reached, proxies included. The first replica
// to start makes the code and stores it encrypted; the others (and
// restarts) log the same one. Once an App exists the pages are closed
// whatever code is given.
func (h *Handler) AnnounceSetupCode(ctx context.Context) error {
	open, err := h.registrationOpen(ctx)
	if err != nil || !open {
		return err
	}
	if !h.opts.Config.SecretKey.IsSet() {
		h.log.WarnContext(ctx, "registering the GitHub App from the front page needs "+config.EnvSecretKey+" (the App's key is stored encrypted with it): set it and restart")
		return nil
	}
	code, err := h.setupCode(ctx)
	if err != nil {
		return fmt.Errorf("error reading the set-up code: %w", err)
	}
	if code == "" {
		if err := h.opts.Store.SetSetting(ctx, SettingSetupCode, newSetupCode(), true); err != nil {
			return fmt.Errorf("error storing the set-up code: %w", err)
		}
		// Read back: of two replicas starting at once, the last write wins.
		if code, err = h.setupCode(ctx); err != nil {
			return fmt.Errorf("error reading the set-up code: %w", err)
		}
	}
	h.log.WarnContext(ctx, "no GitHub App yet: to register one from the front page, enter this one-time set-up code on "+Prefix+"/register",
		"setup_code", code)
	return nil
}
