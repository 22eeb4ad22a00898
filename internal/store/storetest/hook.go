package storetest

import (
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

func testMirrorHook(t *testing.T, open Opener) {
	t.Run("Set", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		b.installation(t, 1)
		m := b.mirror(t, newMirror(1, 1, "a"))
		noErr(t, "SetMirrorHook", b.s.SetMirrorHook(b.ctx, m.ID, "s3cret", 55))
		got := b.get(t, m.ID)
		if got.HookSecret != "s3cret" || got.HookRemoteID != 55 || got.HookID != m.HookID {
			t.Errorf("after SetMirrorHook: secret %q, remote id %d, hook id %q", got.HookSecret, got.HookRemoteID, got.HookID)
		}
		byHook, err := b.s.GetMirrorByHookID(b.ctx, m.HookID)
		noErr(t, "GetMirrorByHookID", err)
		if byHook.HookSecret != "s3cret" {
			t.Errorf("GetMirrorByHookID HookSecret = %q", byHook.HookSecret)
		}

		noErr(t, "SetMirrorHook (remove)", b.s.SetMirrorHook(b.ctx, m.ID, "", 0))
		if got := b.get(t, m.ID); got.HookSecret != "" || got.HookRemoteID != 0 {
			t.Errorf("after removing the hook: secret %q, remote id %d", got.HookSecret, got.HookRemoteID)
		}
		wantErr(t, "SetMirrorHook of unknown mirror", b.s.SetMirrorHook(b.ctx, m.ID+100, "", 1), store.ErrNotFound)
	})

	t.Run("NoKey", func(t *testing.T) {
		t.Parallel()
		b := &bundle{ctx: t.Context(), s: open(t, false)}
		b.installation(t, 1)
		withSecret := newMirror(1, 1, "a")
		withSecret.HookSecret = "s3cret"
		err := b.s.CreateMirror(b.ctx, withSecret)
		wantErr(t, "CreateMirror with HookSecret", err, store.ErrNoKey)
		if ms, _ := b.s.ListMirrors(b.ctx, store.MirrorFilter{}); len(ms) != 0 {
			t.Errorf("failed CreateMirror left %d mirrors", len(ms))
		}

		m := b.mirror(t, newMirror(1, 1, "a"))
		wantErr(t, "SetMirrorHook with a secret", b.s.SetMirrorHook(b.ctx, m.ID, "s3cret", 1), store.ErrNoKey)
		noErr(t, "SetMirrorHook without a secret", b.s.SetMirrorHook(b.ctx, m.ID, "", 9))
		if got := b.get(t, m.ID); got.HookSecret != "" || got.HookRemoteID != 9 {
			t.Errorf("after SetMirrorHook: secret %q, remote id %d", got.HookSecret, got.HookRemoteID)
		}
	})
}
