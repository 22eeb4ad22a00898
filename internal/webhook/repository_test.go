package webhook_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

func repositoryPayload(action, owner, name string) map[string]any {
	return map[string]any{
		"action": action,
		"repository": map[string]any{
			"id": testRepoID, "name": name, "full_name": owner + "/" + name,
			"owner": map[string]any{"login": owner},
		},
		"installation": map[string]any{"id": testInst},
	}
}

func TestRepositoryRenamedAndTransferred(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := b.mirror(t, testRepoID, "repo", store.AToB, "")
	wantCode(t, b.github(t, "repository", "r-1", repositoryPayload("renamed", "octo-org", "new-name")), http.StatusOK)
	if got := b.getMirror(t, m.ID).A.FullName(); got != "octo-org/new-name" {
		t.Errorf("after rename: %s", got)
	}
	wantCode(t, b.github(t, "repository", "r-2", repositoryPayload("transferred", "new-owner", "new-name")), http.StatusOK)
	if got := b.getMirror(t, m.ID).A.FullName(); got != "new-owner/new-name" {
		t.Errorf("after transfer: %s", got)
	}
}

func TestRepositoryDeleted(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := b.mirror(t, testRepoID, "repo", store.AToB, "")
	wantCode(t, b.github(t, "repository", "r-3", repositoryPayload("deleted", "octo-org", "repo")), http.StatusOK)
	if _, err := b.store.GetMirror(t.Context(), m.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("mirror still there: %v", err)
	}
}

func TestRepositoryArchived(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := b.mirror(t, testRepoID, "repo", store.AToB, "")
	wantCode(t, b.github(t, "repository", "r-4", repositoryPayload("archived", "octo-org", "repo")), http.StatusOK)
	got := b.getMirror(t, m.ID)
	if !got.Paused || got.PausedReason != "the GitHub repository was archived" {
		t.Fatalf("after archive: paused %v, reason %q", got.Paused, got.PausedReason)
	}
	wantCode(t, b.github(t, "repository", "r-5", repositoryPayload("unarchived", "octo-org", "repo")), http.StatusOK)
	if got := b.getMirror(t, m.ID); got.Paused {
		t.Errorf("still paused after unarchive")
	}
	if got := b.queue.Syncs(); len(got) != 1 || got[0] != (syncReq{m.ID, store.TriggerUnarchived, true}) {
		t.Errorf("syncs = %v", got)
	}
}

func TestRepositoryUnarchivedKeepsPersonsPause(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := b.mirror(t, testRepoID, "repo", store.AToB, "")
	if err := b.store.SetPaused(t.Context(), m.ID, true, "paused by a person"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, b.github(t, "repository", "r-6", repositoryPayload("unarchived", "octo-org", "repo")), http.StatusOK)
	if got := b.getMirror(t, m.ID); !got.Paused {
		t.Errorf("a person's pause was lifted")
	}
	if got := b.queue.Syncs(); len(got) != 0 {
		t.Errorf("syncs = %v", got)
	}
}
