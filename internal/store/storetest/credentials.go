package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

func testCredentials(t *testing.T, open Opener) {
	t.Run("Override", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		b.installation(t, 1)
		m := b.mirror(t, newMirror(1, 1, "a"))
		other := b.mirror(t, newMirror(1, 2, "a"))

		_, err := b.s.GetCredential(b.ctx, 1, m.ID)
		wantErr(t, "GetCredential with none stored", err, store.ErrNotFound)

		before := time.Now()
		noErr(t, "SetCredential", b.s.SetCredential(b.ctx,
			store.Credential{InstallationID: 1, Login: "bot", Token: "inst-token"}))
		get := func(mirrorID int64, wantMirror int64, wantLogin, wantToken string) {
			t.Helper()
			c, err := b.s.GetCredential(b.ctx, 1, mirrorID)
			noErr(t, "GetCredential", err)
			if c.InstallationID != 1 || c.MirrorID != wantMirror || c.Login != wantLogin || c.Token != wantToken {
				t.Errorf("GetCredential(1, %d) = {%d %d %q token %q}, want {1 %d %q token %q}",
					mirrorID, c.InstallationID, c.MirrorID, c.Login, c.Token, wantMirror, wantLogin, wantToken)
			}
			wantRecent(t, "UpdatedAt", c.UpdatedAt, before)
		}
		get(0, 0, "bot", "inst-token")
		get(m.ID, 0, "bot", "inst-token")

		noErr(t, "SetCredential for mirror", b.s.SetCredential(b.ctx,
			store.Credential{InstallationID: 1, MirrorID: m.ID, Login: "me", Token: "mirror-token"}))
		get(m.ID, m.ID, "me", "mirror-token")
		get(other.ID, 0, "bot", "inst-token")
		get(0, 0, "bot", "inst-token")

		// Replacing keeps one credential per (installation, mirror).
		noErr(t, "SetCredential again", b.s.SetCredential(b.ctx,
			store.Credential{InstallationID: 1, Login: "bot2", Token: "inst-token-2"}))
		get(other.ID, 0, "bot2", "inst-token-2")
		get(m.ID, m.ID, "me", "mirror-token")

		noErr(t, "DeleteCredential of mirror", b.s.DeleteCredential(b.ctx, 1, m.ID))
		get(m.ID, 0, "bot2", "inst-token-2")
		noErr(t, "DeleteCredential of installation", b.s.DeleteCredential(b.ctx, 1, 0))
		_, err = b.s.GetCredential(b.ctx, 1, m.ID)
		wantErr(t, "GetCredential after deleting both", err, store.ErrNotFound)
		wantErr(t, "DeleteCredential again", b.s.DeleteCredential(b.ctx, 1, 0), store.ErrNotFound)
	})

	t.Run("OnlyOwnMirror", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		b.installation(t, 1)
		b.installation(t, 2)
		m2 := b.mirror(t, newMirror(2, 1, "a"))
		err := b.s.SetCredential(b.ctx, store.Credential{InstallationID: 1, MirrorID: m2.ID, Token: "t"})
		wantErr(t, "SetCredential for another installation's mirror", err, store.ErrNotFound)
		err = b.s.SetCredential(b.ctx, store.Credential{InstallationID: 9, Token: "t"})
		wantErr(t, "SetCredential for an unknown installation", err, store.ErrNotFound)
		err = b.s.SetCredential(b.ctx, store.Credential{InstallationID: 1, MirrorID: m2.ID + 100, Token: "t"})
		wantErr(t, "SetCredential for an unknown mirror", err, store.ErrNotFound)

		// An installation's token never serves another installation.
		noErr(t, "SetCredential", b.s.SetCredential(b.ctx, store.Credential{InstallationID: 1, Token: "t"}))
		_, err = b.s.GetCredential(b.ctx, 2, m2.ID)
		wantErr(t, "GetCredential of installation 2", err, store.ErrNotFound)
	})

	t.Run("NoKey", func(t *testing.T) {
		t.Parallel()
		b := &bundle{ctx: t.Context(), s: open(t, false)}
		b.installation(t, 1)
		const canary = "canary-token-no-key-0d1e"
		err := b.s.SetCredential(b.ctx, store.Credential{InstallationID: 1, Token: canary})
		wantErr(t, "SetCredential without a key", err, store.ErrNoKey)
		if err != nil && strings.Contains(err.Error(), canary) {
			t.Errorf("error %q contains the token", err)
		}
		_, err = b.s.GetCredential(b.ctx, 1, 0)
		wantErr(t, "GetCredential after a refused SetCredential", err, store.ErrNotFound)
	})
}
