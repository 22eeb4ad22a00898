package storetest

import (
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

func testInstallations(t *testing.T, open Opener) {
	t.Run("UpsertAndGet", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		before := time.Now()
		noErr(t, "UpsertInstallation", b.s.UpsertInstallation(b.ctx,
			store.Installation{ID: 42, Account: "octo", AccountType: "User"}))
		got, err := b.s.GetInstallation(b.ctx, 42)
		noErr(t, "GetInstallation", err)
		if got.ID != 42 || got.Account != "octo" || got.AccountType != "User" || got.Suspended {
			t.Errorf("GetInstallation = %+v", got)
		}
		wantRecent(t, "CreatedAt", got.CreatedAt, before)
		wantTime(t, "UpdatedAt", got.UpdatedAt, got.CreatedAt)

		noErr(t, "UpsertInstallation again", b.s.UpsertInstallation(b.ctx,
			store.Installation{ID: 42, Account: "octo-org", AccountType: "Organization", Suspended: true}))
		again, err := b.s.GetInstallation(b.ctx, 42)
		noErr(t, "GetInstallation", err)
		if again.Account != "octo-org" || again.AccountType != "Organization" || !again.Suspended {
			t.Errorf("after second upsert: %+v", again)
		}
		wantTime(t, "CreatedAt after update", again.CreatedAt, got.CreatedAt)
		if again.UpdatedAt.Before(got.UpdatedAt) {
			t.Errorf("UpdatedAt went back: %v → %v", got.UpdatedAt, again.UpdatedAt)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		_, err := b.s.GetInstallation(b.ctx, 1)
		wantErr(t, "GetInstallation", err, store.ErrNotFound)
		wantErr(t, "SetInstallationSuspended", b.s.SetInstallationSuspended(b.ctx, 1, true), store.ErrNotFound)
		wantErr(t, "DeleteInstallation", b.s.DeleteInstallation(b.ctx, 1), store.ErrNotFound)
	})

	t.Run("Suspend", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		b.installation(t, 1)
		for _, want := range []bool{true, false} {
			noErr(t, "SetInstallationSuspended", b.s.SetInstallationSuspended(b.ctx, 1, want))
			got, err := b.s.GetInstallation(b.ctx, 1)
			noErr(t, "GetInstallation", err)
			if got.Suspended != want || got.Account != "acct1" {
				t.Errorf("after SetInstallationSuspended(%v): %+v", want, got)
			}
		}
	})

	t.Run("DeleteCascades", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		b.installation(t, 1)
		b.installation(t, 2)
		gone := []*store.Mirror{b.mirror(t, newMirror(1, 10, "a")), b.mirror(t, newMirror(1, 11, "b"))}
		kept := b.mirror(t, newMirror(2, 20, "c"))
		for _, m := range append(gone, kept) {
			b.run(t, m.ID, "ok")
			noErr(t, "SaveRefState", b.s.SaveRefState(b.ctx, m.ID, map[string]string{"refs/heads/main": "abc"}))
			noErr(t, "SetCredential", b.s.SetCredential(b.ctx,
				store.Credential{InstallationID: m.InstallationID, MirrorID: m.ID, Token: "t"}))
		}
		for _, id := range []int64{1, 2} {
			noErr(t, "SetCredential", b.s.SetCredential(b.ctx, store.Credential{InstallationID: id, Token: "t"}))
		}

		noErr(t, "DeleteInstallation", b.s.DeleteInstallation(b.ctx, 1))

		_, err := b.s.GetInstallation(b.ctx, 1)
		wantErr(t, "GetInstallation", err, store.ErrNotFound)
		for _, m := range gone {
			_, err := b.s.GetMirror(b.ctx, m.ID)
			wantErr(t, "GetMirror", err, store.ErrNotFound)
			_, err = b.s.GetMirrorByHookID(b.ctx, m.HookID)
			wantErr(t, "GetMirrorByHookID", err, store.ErrNotFound)
			runs, err := b.s.ListRuns(b.ctx, m.ID, 0)
			noErr(t, "ListRuns", err)
			if len(runs) != 0 {
				t.Errorf("ListRuns of deleted mirror %d = %d runs", m.ID, len(runs))
			}
			_, err = b.s.RefState(b.ctx, m.ID)
			wantErr(t, "RefState", err, store.ErrNotFound)
			_, err = b.s.GetCredential(b.ctx, 1, m.ID)
			wantErr(t, "GetCredential", err, store.ErrNotFound)
		}
		ms, err := b.s.ListMirrors(b.ctx, store.MirrorFilter{})
		noErr(t, "ListMirrors", err)
		if len(ms) != 1 || ms[0].ID != kept.ID {
			t.Errorf("ListMirrors after delete = %d mirrors, want only %d", len(ms), kept.ID)
		}
		if runs, err := b.s.ListRuns(b.ctx, kept.ID, 0); err != nil || len(runs) != 1 {
			t.Errorf("ListRuns of the other installation's mirror = %d, %v", len(runs), err)
		}
		if refs, err := b.s.RefState(b.ctx, kept.ID); err != nil || len(refs) != 1 {
			t.Errorf("RefState of the other installation's mirror = %v, %v", refs, err)
		}
		if c, err := b.s.GetCredential(b.ctx, 2, kept.ID); err != nil || c.MirrorID != kept.ID {
			t.Errorf("GetCredential of the other installation = %+v, %v", c, err)
		}
		if _, err := b.s.GetCredential(b.ctx, 2, 0); err != nil {
			t.Errorf("GetCredential of the other installation: %v", err)
		}

		// The id can come back (GitHub reinstall) with nothing left over.
		b.installation(t, 1)
		if ms, err := b.s.ListMirrors(b.ctx, store.MirrorFilter{InstallationID: 1}); err != nil || len(ms) != 0 {
			t.Errorf("mirrors of re-created installation = %d, %v", len(ms), err)
		}
		_, err = b.s.GetCredential(b.ctx, 1, 0)
		wantErr(t, "GetCredential of re-created installation", err, store.ErrNotFound)
	})
}
