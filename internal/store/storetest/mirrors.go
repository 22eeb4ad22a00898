package storetest

import (
	"encoding/base64"
	"slices"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// fullMirror has every settings field set.
func fullMirror(installationID int64) *store.Mirror {
	return &store.Mirror{
		InstallationID: installationID,
		GitHubRepoID:   1001,
		A:              store.Side{Site: forge.GitHub, Owner: "octo", Name: "hello"},
		B:              store.Side{Site: forge.Gitee, Owner: "gitee-octo", Name: "hello-mirror"},
		Direction:      store.BToA,
		Branches:       []string{"main", "release/*", "!release/old"},
		Tags:           []string{"v*"},
		NoTags:         true,
		Force:          true,
		Prune:          true,
		CreateMissing:  true,
		Visibility:     "private",
		Releases:       true,
		LFS:            mirror.LFSRequired,
		ConfigSource:   "settings",
		ConfigSHA:      "0123456789abcdef0123456789abcdef01234567",
		HookSecret:     "hook-secret",
		HookRemoteID:   77,
	}
}

// wantSettings fails unless got has want's settings fields.
func wantSettings(t *testing.T, got, want *store.Mirror) {
	t.Helper()
	if got.InstallationID != want.InstallationID || got.GitHubRepoID != want.GitHubRepoID ||
		got.A != want.A || got.B != want.B ||
		got.Direction != want.Direction ||
		!slices.Equal(got.Branches, want.Branches) || !slices.Equal(got.Tags, want.Tags) ||
		got.NoTags != want.NoTags || got.Force != want.Force || got.Prune != want.Prune ||
		got.CreateMissing != want.CreateMissing || got.Visibility != want.Visibility ||
		got.Releases != want.Releases || got.LFS != want.LFS ||
		got.ConfigSource != want.ConfigSource || got.ConfigSHA != want.ConfigSHA {
		t.Errorf("mirror settings:\n got %+v\nwant %+v", got, want)
	}
}

func testMirrors(t *testing.T, open Opener) {
	t.Run("CreateAndGet", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		b.installation(t, 1)
		before := time.Now()
		m := b.mirror(t, fullMirror(1))
		if m.ID <= 0 {
			t.Errorf("ID = %d", m.ID)
		}
		if raw, err := base64.RawURLEncoding.DecodeString(m.HookID); err != nil || len(raw) != 24 {
			t.Errorf("HookID %q: want 24 random bytes, base64url (%v)", m.HookID, err)
		}
		if m.Status != store.StatusNew {
			t.Errorf("Status = %q, want %q", m.Status, store.StatusNew)
		}
		wantRecent(t, "CreatedAt", m.CreatedAt, before)
		wantTime(t, "UpdatedAt", m.UpdatedAt, m.CreatedAt)

		for name, get := range map[string]func() (*store.Mirror, error){
			"GetMirror":         func() (*store.Mirror, error) { return b.s.GetMirror(b.ctx, m.ID) },
			"GetMirrorByHookID": func() (*store.Mirror, error) { return b.s.GetMirrorByHookID(b.ctx, m.HookID) },
		} {
			got, err := get()
			noErr(t, name, err)
			wantSettings(t, got, fullMirror(1))
			if got.ID != m.ID || got.HookID != m.HookID || got.HookSecret != "hook-secret" ||
				got.HookRemoteID != 77 || got.Status != store.StatusNew || got.Paused ||
				got.ConsecutiveFailures != 0 || got.RequestSeq != 0 || !got.LastSyncAt.IsZero() {
				t.Errorf("%s = %+v", name, got)
			}
			wantTime(t, name+" CreatedAt", got.CreatedAt, m.CreatedAt)
			wantTime(t, name+" UpdatedAt", got.UpdatedAt, m.UpdatedAt)
		}
	})

	t.Run("EmptyFilters", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		b.installation(t, 1)
		m := newMirror(1, 1, "a")
		m.Branches = []string{}
		b.mirror(t, m)
		got := b.get(t, m.ID)
		if len(got.Branches) != 0 || len(got.Tags) != 0 {
			t.Errorf("filters = %q, %q; want none", got.Branches, got.Tags)
		}
	})

	t.Run("HookIDs", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		b.installation(t, 1)
		m1 := b.mirror(t, newMirror(1, 1, "a"))
		m2 := b.mirror(t, newMirror(1, 2, "a"))
		if m1.HookID == m2.HookID {
			t.Errorf("two mirrors share HookID %q", m1.HookID)
		}
		given := newMirror(1, 3, "a")
		given.HookID = "given-hook-id"
		b.mirror(t, given)
		if got, err := b.s.GetMirrorByHookID(b.ctx, "given-hook-id"); err != nil || got.ID != given.ID {
			t.Errorf("GetMirrorByHookID(given) = %v, %v", got, err)
		}
		dup := newMirror(1, 4, "a")
		dup.HookID = m1.HookID
		wantErr(t, "CreateMirror with a taken HookID", b.s.CreateMirror(b.ctx, dup), store.ErrConflict)
	})

	t.Run("Conflict", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		b.installation(t, 1)
		b.installation(t, 2)
		b.mirror(t, newMirror(1, 1, "a"))
		wantErr(t, "same repository and target", b.s.CreateMirror(b.ctx, newMirror(1, 1, "a")), store.ErrConflict)
		b.mirror(t, newMirror(1, 1, "b")) // same repository, other target
		b.mirror(t, newMirror(1, 2, "a")) // other repository, same target
		b.mirror(t, newMirror(2, 1, "a")) // other installation
		other := newMirror(1, 1, "a")
		other.B.Owner = "someone-else"
		b.mirror(t, other)
		ms, err := b.s.ListMirrors(b.ctx, store.MirrorFilter{})
		noErr(t, "ListMirrors", err)
		if len(ms) != 5 {
			t.Errorf("ListMirrors = %d mirrors, want 5", len(ms))
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		wantErr(t, "CreateMirror of unknown installation", b.s.CreateMirror(b.ctx, newMirror(9, 1, "a")), store.ErrNotFound)
		_, err := b.s.GetMirror(b.ctx, 1)
		wantErr(t, "GetMirror", err, store.ErrNotFound)
		_, err = b.s.GetMirrorByHookID(b.ctx, "nope")
		wantErr(t, "GetMirrorByHookID", err, store.ErrNotFound)
		m := newMirror(1, 1, "a")
		m.ID = 1
		wantErr(t, "UpdateMirrorSettings", b.s.UpdateMirrorSettings(b.ctx, m), store.ErrNotFound)
		wantErr(t, "DeleteMirror", b.s.DeleteMirror(b.ctx, 1), store.ErrNotFound)
		wantErr(t, "SetStatus", b.s.SetStatus(b.ctx, 1, store.StatusSyncing), store.ErrNotFound)
		noErr(t, "RenameRepository of no mirror", b.s.RenameRepository(b.ctx, 1, "a", "b"))
	})

	t.Run("UpdateSettings", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		b.installation(t, 1)
		m := b.mirror(t, newMirror(1, 1, "a"))
		seq, err := b.s.RequestSync(b.ctx, m.ID, false)
		noErr(t, "RequestSync", err)
		b.run(t, m.ID, "failed")

		want := fullMirror(1)
		want.ID = m.ID
		want.GitHubRepoID, want.A.Owner, want.A.Name = m.GitHubRepoID, m.A.Owner, m.A.Name
		upd := *want
		// Not settings: these must not be written.
		upd.A.Owner, upd.A.Name, upd.HookID = "evil", "evil", "evil"
		upd.RequestSeq, upd.ConsecutiveFailures, upd.Status, upd.Paused = 0, 0, store.StatusInSync, true
		noErr(t, "UpdateMirrorSettings", b.s.UpdateMirrorSettings(b.ctx, &upd))
		if upd.UpdatedAt.Before(m.UpdatedAt) {
			t.Errorf("UpdatedAt = %v, before %v", upd.UpdatedAt, m.UpdatedAt)
		}

		got := b.get(t, m.ID)
		wantSettings(t, got, want)
		if got.HookID != m.HookID || got.HookSecret != "" || got.RequestSeq != seq ||
			got.ConsecutiveFailures != 1 || got.Status != store.StatusFailing || got.Paused {
			t.Errorf("UpdateMirrorSettings touched more than settings: %+v", got)
		}
		wantTime(t, "UpdatedAt", got.UpdatedAt, upd.UpdatedAt)
		wantTime(t, "CreatedAt", got.CreatedAt, m.CreatedAt)

		taken := b.mirror(t, newMirror(1, 1, "b"))
		taken.B.Name = want.B.Name
		taken.B.Owner = want.B.Owner
		wantErr(t, "UpdateMirrorSettings to a taken target", b.s.UpdateMirrorSettings(b.ctx, taken), store.ErrConflict)
	})

	t.Run("List", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		b.installation(t, 1)
		b.installation(t, 2)
		b.installation(t, 3)
		a := b.mirror(t, newMirror(1, 10, "a"))
		pausedByPerson := b.mirror(t, newMirror(1, 10, "b"))
		pausedByFailures := b.mirror(t, newMirror(1, 11, "c"))
		c := b.mirror(t, newMirror(2, 10, "d"))
		suspended := b.mirror(t, newMirror(3, 12, "e"))
		noErr(t, "SetPaused", b.s.SetPaused(b.ctx, pausedByPerson.ID, true, "holiday"))
		noErr(t, "PauseAfterFailures", b.s.PauseAfterFailures(b.ctx, pausedByFailures.ID, "boom"))
		noErr(t, "SetInstallationSuspended", b.s.SetInstallationSuspended(b.ctx, 3, true))

		ids := func(f store.MirrorFilter) []int64 {
			t.Helper()
			ms, err := b.s.ListMirrors(b.ctx, f)
			noErr(t, "ListMirrors", err)
			var ids []int64
			for _, m := range ms {
				ids = append(ids, m.ID)
			}
			return ids
		}
		tests := map[string]struct {
			f    store.MirrorFilter
			want []int64
		}{
			"all":              {store.MirrorFilter{}, []int64{a.ID, pausedByPerson.ID, pausedByFailures.ID, c.ID, suspended.ID}},
			"installation":     {store.MirrorFilter{InstallationID: 1}, []int64{a.ID, pausedByPerson.ID, pausedByFailures.ID}},
			"repository":       {store.MirrorFilter{GitHubRepoID: 10}, []int64{a.ID, pausedByPerson.ID, c.ID}},
			"both":             {store.MirrorFilter{InstallationID: 1, GitHubRepoID: 10}, []int64{a.ID, pausedByPerson.ID}},
			"active":           {store.MirrorFilter{ActiveOnly: true}, []int64{a.ID, c.ID}},
			"active repo":      {store.MirrorFilter{ActiveOnly: true, GitHubRepoID: 10}, []int64{a.ID, c.ID}},
			"active suspended": {store.MirrorFilter{ActiveOnly: true, InstallationID: 3}, nil},
			"none":             {store.MirrorFilter{GitHubRepoID: 99}, nil},
		}
		for name, tt := range tests {
			if got := ids(tt.f); !slices.Equal(got, tt.want) {
				t.Errorf("%s: ListMirrors(%+v) = %v, want %v (in id order)", name, tt.f, got, tt.want)
			}
		}
	})

	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		b.installation(t, 1)
		m := b.mirror(t, newMirror(1, 1, "a"))
		other := b.mirror(t, newMirror(1, 2, "a"))
		for _, id := range []int64{m.ID, other.ID} {
			b.run(t, id, "ok")
			noErr(t, "SaveRefState", b.s.SaveRefState(b.ctx, id, map[string]string{"refs/heads/main": "abc"}))
			noErr(t, "SetCredential", b.s.SetCredential(b.ctx, store.Credential{InstallationID: 1, MirrorID: id, Token: "t"}))
		}
		noErr(t, "SetCredential", b.s.SetCredential(b.ctx, store.Credential{InstallationID: 1, Token: "inst"}))

		noErr(t, "DeleteMirror", b.s.DeleteMirror(b.ctx, m.ID))
		_, err := b.s.GetMirror(b.ctx, m.ID)
		wantErr(t, "GetMirror", err, store.ErrNotFound)
		if runs, err := b.s.ListRuns(b.ctx, m.ID, 0); err != nil || len(runs) != 0 {
			t.Errorf("ListRuns of deleted mirror = %d, %v", len(runs), err)
		}
		_, err = b.s.RefState(b.ctx, m.ID)
		wantErr(t, "RefState", err, store.ErrNotFound)
		wantErr(t, "DeleteCredential of deleted mirror", b.s.DeleteCredential(b.ctx, 1, m.ID), store.ErrNotFound)
		if c, err := b.s.GetCredential(b.ctx, 1, m.ID); err != nil || c.MirrorID != 0 || c.Token != "inst" {
			t.Errorf("GetCredential after DeleteMirror = %+v, %v; want the installation's", c, err)
		}
		// The other mirror keeps everything.
		if runs, err := b.s.ListRuns(b.ctx, other.ID, 0); err != nil || len(runs) != 1 {
			t.Errorf("ListRuns of other mirror = %d, %v", len(runs), err)
		}
		if c, err := b.s.GetCredential(b.ctx, 1, other.ID); err != nil || c.MirrorID != other.ID {
			t.Errorf("GetCredential of other mirror = %+v, %v", c, err)
		}
		wantErr(t, "DeleteMirror again", b.s.DeleteMirror(b.ctx, m.ID), store.ErrNotFound)

		// Ids are never reused: a queued job for the deleted mirror must not
		// find a new one.
		n := b.mirror(t, newMirror(1, 1, "a"))
		if n.ID <= other.ID {
			t.Errorf("new mirror reuses id %d (deleted %d, last %d)", n.ID, m.ID, other.ID)
		}
	})

	t.Run("RenameRepository", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		b.installation(t, 1)
		b.installation(t, 2)
		m1 := b.mirror(t, newMirror(1, 7, "a"))
		m2 := b.mirror(t, newMirror(2, 7, "b"))
		other := b.mirror(t, newMirror(1, 8, "c"))
		noErr(t, "RenameRepository", b.s.RenameRepository(b.ctx, 7, "new-owner", "new-name"))
		for _, m := range []*store.Mirror{m1, m2} {
			if got := b.get(t, m.ID); got.A.FullName() != "new-owner/new-name" || got.B.FullName() != m.B.FullName() {
				t.Errorf("mirror %d after rename: %s → %s", m.ID, got.A.FullName(), got.B.FullName())
			}
		}
		if got := b.get(t, other.ID); got.A.FullName() != other.A.FullName() {
			t.Errorf("other repository renamed too: %s", got.A.FullName())
		}
	})
}
