package webhook_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// installationPayload is an installation event for testInst.
func installationPayload(action string, suspended bool, repos ...map[string]any) map[string]any {
	in := map[string]any{"id": testInst, "account": map[string]any{"login": "octo-org", "type": "Organization"}}
	if suspended {
		in["suspended_at"] = "2026-01-02T03:04:05Z"
	}
	p := map[string]any{"action": action, "installation": in}
	if repos != nil {
		p["repositories"] = repos
	}
	return p
}

func repo(id int64, full string) map[string]any {
	return map[string]any{"id": id, "full_name": full, "name": full[len("octo-org/"):]}
}

func TestInstallationCreated(t *testing.T) {
	t.Parallel()
	b := setup(t)
	wantCode(t, b.github(t, "installation", "in-1",
		installationPayload("created", false, repo(1, "octo-org/a"), repo(2, "octo-org/b"))), http.StatusOK)
	in, err := b.store.GetInstallation(t.Context(), testInst)
	if err != nil {
		t.Fatalf("installation not recorded: %v", err)
	}
	if in.Account != "octo-org" || in.AccountType != "Organization" || in.Suspended {
		t.Errorf("installation = %+v", in)
	}
	want := []configReq{{testInst, 1, "octo-org", "a"}, {testInst, 2, "octo-org", "b"}}
	if got := b.queue.Configs(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("configs = %v, want %v", got, want)
	}
}

func TestInstallationDeleted(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := b.mirror(t, testRepoID, "repo", store.AToB, "")
	wantCode(t, b.github(t, "installation", "in-2", installationPayload("deleted", false)), http.StatusOK)
	if _, err := b.store.GetInstallation(t.Context(), testInst); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("installation still there: %v", err)
	}
	if _, err := b.store.GetMirror(t.Context(), m.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("mirror still there: %v", err)
	}
	// Deleting an installation this server never saw is fine.
	wantCode(t, b.github(t, "installation", "in-3", installationPayload("deleted", false)), http.StatusOK)
}

func TestInstallationSuspend(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.installation(t, testInst)
	wantCode(t, b.github(t, "installation", "in-4", installationPayload("suspend", true)), http.StatusOK)
	if in, err := b.store.GetInstallation(t.Context(), testInst); err != nil || !in.Suspended {
		t.Fatalf("after suspend: %+v, %v", in, err)
	}
	wantCode(t, b.github(t, "installation", "in-5", installationPayload("unsuspend", false)), http.StatusOK)
	if in, err := b.store.GetInstallation(t.Context(), testInst); err != nil || in.Suspended {
		t.Fatalf("after unsuspend: %+v, %v", in, err)
	}
	// A suspension of an installation this server never saw records it.
	b2 := setup(t)
	wantCode(t, b2.github(t, "installation", "in-6", installationPayload("suspend", true)), http.StatusOK)
	if in, err := b2.store.GetInstallation(t.Context(), testInst); err != nil || !in.Suspended {
		t.Fatalf("unknown installation after suspend: %+v, %v", in, err)
	}
}

func TestInstallationNewPermissions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m1 := b.mirror(t, testRepoID, "one", store.AToB, "")
	m2 := b.mirror(t, testRepoID+1, "two", store.BToA, "")
	wantCode(t, b.github(t, "installation", "in-7", installationPayload("new_permissions_accepted", false)), http.StatusOK)
	got := b.queue.Syncs()
	want := []syncReq{{m1.ID, store.TriggerPermissions, true}, {m2.ID, store.TriggerPermissions, true}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("syncs = %v, want %v", got, want)
	}
}
