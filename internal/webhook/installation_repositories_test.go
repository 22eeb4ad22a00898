package webhook_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

func TestInstallationRepositoriesAdded(t *testing.T) {
	t.Parallel()
	b := setup(t) // the installation is not known yet
	p := map[string]any{
		"action":             "added",
		"installation":       map[string]any{"id": testInst, "account": map[string]any{"login": "octo-org", "type": "Organization"}},
		"repositories_added": []map[string]any{repo(7, "octo-org/seven")},
	}
	wantCode(t, b.github(t, "installation_repositories", "ir-1", p), http.StatusOK)
	if _, err := b.store.GetInstallation(t.Context(), testInst); err != nil {
		t.Errorf("installation not recorded: %v", err)
	}
	if got, want := b.queue.Configs(), (configReq{testInst, 7, "octo-org", "seven"}); len(got) != 1 || got[0] != want {
		t.Errorf("configs = %v, want [%v]", got, want)
	}
}

func TestInstallationRepositoriesRemoved(t *testing.T) {
	t.Parallel()
	b := setup(t)
	gone := b.mirror(t, testRepoID, "repo", store.AToB, "")
	kept := b.mirror(t, testRepoID+1, "other", store.AToB, "")
	p := map[string]any{
		"action":               "removed",
		"installation":         map[string]any{"id": testInst},
		"repositories_removed": []map[string]any{repo(testRepoID, "octo-org/repo")},
	}
	wantCode(t, b.github(t, "installation_repositories", "ir-2", p), http.StatusOK)
	if _, err := b.store.GetMirror(t.Context(), gone.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("mirror of the removed repository still there: %v", err)
	}
	b.getMirror(t, kept.ID)
}
