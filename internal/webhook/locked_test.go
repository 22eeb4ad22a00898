package webhook_test

import (
	"context"
	"database/sql"
	"net/http"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/gitee-mirror/gitee-mirror/internal/webhook"
)

// A main database that another writer holds locked makes neither site's
// delivery wait or fail: both are acknowledged from the inbox, the Gitee
// one verified against the hook secrets loaded at start; their work (a
// sync request, a write) is done once the lock is gone. (The store gives up
// on a lock after 100 ms here, so a write in the request would answer 503,
// as Gitee deliveries did when they requested their sync in the request.)
func TestDeliveriesWhileMainDatabaseLocked(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *setupOptions) { o.busy, o.writes = 100*time.Millisecond, true })
	m := b.mirror(t, testRepoID, "repo", store.BToA, hookSecret)
	b.mirror(t, testRepoID, "pushed", store.AToB, "")
	if err := b.giteeIn.Warm(t.Context()); err != nil {
		t.Fatal(err)
	}

	lock, err := sql.Open("sqlite", b.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	conn, err := lock.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatalf("locking the main database: %v", err)
	}
	defer conn.ExecContext(context.Background(), "ROLLBACK")
	if _, err := b.store.RequestSync(t.Context(), m.ID, false); err == nil {
		t.Fatal("the main database is not locked: the test proves nothing")
	}

	rec := b.github(t, "push", "locked-1", map[string]any{
		"ref": "refs/heads/main", "after": "2222222222222222222222222222222222222222",
		"repository":   map[string]any{"id": testRepoID, "full_name": "octo-org/repo", "name": "repo", "owner": map[string]any{"login": "octo-org"}},
		"installation": map[string]any{"id": testInst},
	})
	wantCode(t, rec, http.StatusOK)
	rec = b.gitee(t, m.HookID, map[string]string{"X-Gitee-Token": hookSecret, "X-Gitee-Event": "Push Hook"}, giteePush)
	wantCode(t, rec, http.StatusOK)
	wantBody(t, rec, "accepted")

	got := map[string]bool{}
	for _, d := range b.pending(t) {
		got[d.Source] = true
	}
	if !got[webhook.SourceGitHub] || !got[webhook.SourceGitee] {
		t.Errorf("pending deliveries by source = %v, want both kept until the database is back", got)
	}
	if _, err := conn.ExecContext(t.Context(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if err := b.fwd.Drain(t.Context()); err != nil {
		t.Fatalf("forwarding after the lock: %v", err)
	}
	syncs := b.queue.Syncs()
	if len(syncs) != 2 || syncs[0].Trigger != store.TriggerPush || syncs[1] != (syncReq{m.ID, store.TriggerGiteePush, true}) {
		t.Errorf("syncs = %+v, want the GitHub push's and the Gitee push's", syncs)
	}
}
