package sqlite_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/secret"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/gitee-mirror/gitee-mirror/internal/store/sqlite"
	"github.com/gitee-mirror/gitee-mirror/internal/store/storetest"
)

// TestConformance runs the store suite on a SQLite file per test.
func TestConformance(t *testing.T) {
	t.Parallel()
	box := newBox(t)
	var paths sync.Map // *testing.T → database path: a second open reopens
	storetest.Run(t, func(t *testing.T, withKey bool) store.Store {
		t.Helper()
		p, _ := paths.LoadOrStore(t, filepath.Join(t.TempDir(), "data", "gitee-mirror.db"))
		var b *secret.Box
		if withKey {
			b = box
		}
		return open(t, p.(string), b)
	})
}

// TestLocks runs the key lock suite on a SQLite file per test: its locks
// are one process's, so both handles are the store's one.
func TestLocks(t *testing.T) {
	t.Parallel()
	storetest.RunLocks(t, func(t *testing.T) (store.JobDB, store.JobDB) {
		jobs := open(t, filepath.Join(t.TempDir(), "gitee-mirror.db"), nil).Jobs()
		return jobs, jobs
	})
}

// open opens the store at path, closing it when the test ends.
func open(t *testing.T, path string, box *secret.Box) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, box)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func newBox(t *testing.T) *secret.Box {
	t.Helper()
	key := make([]byte, secret.KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	b, err := secret.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
