package sqlite_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/gitee-mirror/gitee-mirror/internal/store/sqlite"
	"github.com/gitee-mirror/gitee-mirror/internal/store/storetest"
)

// TestInboxConformance runs the inbox suite on a SQLite file per test.
func TestInboxConformance(t *testing.T) {
	t.Parallel()
	var paths sync.Map // *testing.T → inbox path: a second open reopens
	storetest.RunInbox(t, func(t *testing.T) store.Inbox {
		t.Helper()
		p, _ := paths.LoadOrStore(t, filepath.Join(t.TempDir(), "data", "gitee-mirror.inbox.db"))
		in, err := sqlite.OpenInbox(context.Background(), p.(string))
		if err != nil {
			t.Fatalf("OpenInbox: %v", err)
		}
		t.Cleanup(func() { _ = in.Close() })
		return in
	})
}

func TestInboxPath(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ db, want string }{
		{"data/gitee-mirror.db", "data/gitee-mirror.inbox.db"},
		{"/var/lib/gm/state", "/var/lib/gm/state.inbox.db"},
		{":memory:", ":memory:"},
	} {
		if got := sqlite.InboxPath(tt.db); got != tt.want {
			t.Errorf("InboxPath(%q) = %q, want %q", tt.db, got, tt.want)
		}
	}
}
