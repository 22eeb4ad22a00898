package postgres_test

import (
	"context"
	"crypto/rand"
	"sync"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/pgtest"
	"github.com/gitee-mirror/gitee-mirror/internal/secret"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/gitee-mirror/gitee-mirror/internal/store/postgres"
	"github.com/gitee-mirror/gitee-mirror/internal/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestConformance runs the store suite on a database per test.
func TestConformance(t *testing.T) {
	t.Parallel()
	box := newBox(t)
	var dbs sync.Map // *testing.T → *pgtest.Database: a second open reopens
	storetest.Run(t, func(t *testing.T, withKey bool) store.Store {
		t.Helper()
		db, ok := dbs.Load(t)
		if !ok {
			db, _ = dbs.LoadOrStore(t, pgtest.New(t))
		}
		var b *secret.Box
		if withKey {
			b = box
		}
		return open(t, db.(*pgtest.Database).URL(), b)
	})
}

// TestLocks runs the key lock suite on two replicas' stores of a database
// per test.
func TestLocks(t *testing.T) {
	t.Parallel()
	storetest.RunLocks(t, func(t *testing.T) (store.JobDB, store.JobDB) {
		db := pgtest.New(t)
		return open(t, db.URL(), nil).Jobs(), open(t, db.URL(), nil).Jobs()
	})
}

// TestInboxConformance runs the inbox suite on a database per test.
func TestInboxConformance(t *testing.T) {
	t.Parallel()
	var dbs sync.Map
	storetest.RunInbox(t, func(t *testing.T) store.Inbox {
		t.Helper()
		db, ok := dbs.Load(t)
		if !ok {
			db, _ = dbs.LoadOrStore(t, pgtest.New(t))
		}
		in, err := postgres.OpenInbox(context.Background(), db.(*pgtest.Database).URL())
		if err != nil {
			t.Fatalf("OpenInbox: %v", err)
		}
		t.Cleanup(func() { _ = in.Close() })
		return in
	})
}

// open opens the store at url, closing it when the test ends.
func open(t *testing.T, url string, box *secret.Box, opts ...postgres.Option) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url, box, opts...)
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
