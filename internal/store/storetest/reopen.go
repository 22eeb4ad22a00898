package storetest

import (
	"maps"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

func testReopen(t *testing.T, open Opener) {
	t.Run("KeepsData", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		b.installation(t, 1)
		m := fullMirror(1)
		b.mirror(t, m)
		for range 3 {
			_, err := b.s.RequestSync(b.ctx, m.ID, false)
			noErr(t, "RequestSync", err)
		}
		b.run(t, m.ID, "failed")
		refs := map[string]string{"refs/heads/main": "abc", "refs/tags/v1": "def"}
		noErr(t, "SaveRefState", b.s.SaveRefState(b.ctx, m.ID, refs))
		noErr(t, "SetCredential", b.s.SetCredential(b.ctx, store.Credential{InstallationID: 1, Login: "bot", Token: "tok"}))
		noErr(t, "SetSetting", b.s.SetSetting(b.ctx, "k", "v", true))
		noErr(t, "Close", b.s.Close())

		for i := range 2 { // a second reopen finds the schema current
			r := &bundle{ctx: t.Context(), s: open(t, true)}
			noErr(t, "Ping", r.s.Ping(r.ctx))
			got := r.get(t, m.ID)
			wantSettings(t, got, fullMirror(1))
			if got.HookSecret != "hook-secret" || got.HookID != m.HookID || got.RequestSeq != 3 ||
				got.ConsecutiveFailures != 1 || got.Status != store.StatusFailing {
				t.Errorf("reopen %d: mirror = %+v", i, got)
			}
			if runs, err := r.s.ListRuns(r.ctx, m.ID, 0); err != nil || len(runs) != 1 || runs[0].Outcome != "failed" {
				t.Errorf("reopen %d: ListRuns = %v, %v", i, runs, err)
			}
			if got, err := r.s.RefState(r.ctx, m.ID); err != nil || !maps.Equal(got, refs) {
				t.Errorf("reopen %d: RefState = %v, %v", i, got, err)
			}
			if c, err := r.s.GetCredential(r.ctx, 1, m.ID); err != nil || c.Token != "tok" || c.Login != "bot" {
				t.Errorf("reopen %d: GetCredential = %v, %v", i, c, err)
			}
			if v, err := r.s.Setting(r.ctx, "k"); err != nil || v != "v" {
				t.Errorf("reopen %d: Setting = %q, %v", i, v, err)
			}
			noErr(t, "Close", r.s.Close())
		}
	})

	t.Run("Ping", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		noErr(t, "Ping", b.s.Ping(b.ctx))
		noErr(t, "Close", b.s.Close())
		if err := b.s.Ping(b.ctx); err == nil {
			t.Error("Ping after Close: no error")
		}
		noErr(t, "Close twice", b.s.Close())
	})
}
