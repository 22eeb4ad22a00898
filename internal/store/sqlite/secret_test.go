package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/secret"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

func TestWrongKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	s := open(t, path, newBox(t))
	if err := s.UpsertInstallation(ctx, store.Installation{ID: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCredential(ctx, store.Credential{InstallationID: 1, Token: "tok"}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = open(t, path, newBox(t)) // another key
	_, err := s.GetCredential(ctx, 1, 0)
	if !errors.Is(err, secret.ErrOpen) || !strings.Contains(err.Error(), "key") {
		t.Errorf("GetCredential with another key: %v; want secret.ErrOpen naming the key", err)
	}
}

// TestSecretsBoundToRow moves ciphertexts between rows behind the store's
// back: none may open in a row it was not sealed for.
func TestSecretsBoundToRow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "b.db"), newBox(t))
	if err := s.UpsertInstallation(ctx, store.Installation{ID: 1}); err != nil {
		t.Fatal(err)
	}
	var ms []*store.Mirror
	for i := range 2 {
		m := &store.Mirror{InstallationID: 1, GitHubRepoID: int64(i + 1), B: store.Side{Name: "x"}, HookSecret: "hook"}
		if err := s.CreateMirror(ctx, m); err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.SetCredential(ctx, store.Credential{InstallationID: 1, Token: "inst"}))
	must(s.SetCredential(ctx, store.Credential{InstallationID: 1, MirrorID: ms[0].ID, Token: "mirror"}))
	must(s.SetSetting(ctx, "a", "secret-a", true))
	must(s.SetSetting(ctx, "b", "secret-b", true))

	db := s.DB()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`UPDATE credentials SET token = (SELECT token FROM credentials WHERE mirror_id = 0) WHERE mirror_id = ?`, ms[0].ID)
	exec(`UPDATE mirrors SET hook_secret = (SELECT hook_secret FROM mirrors WHERE id = ?) WHERE id = ?`, ms[0].ID, ms[1].ID)
	exec(`UPDATE settings SET sealed = (SELECT sealed FROM settings WHERE key = 'a') WHERE key = 'b'`)

	_, err := s.GetCredential(ctx, 1, ms[0].ID)
	wantOpenErr(t, "GetCredential", err)
	_, err = s.GetMirror(ctx, ms[1].ID)
	wantOpenErr(t, "GetMirror", err)
	_, err = s.Setting(ctx, "b")
	wantOpenErr(t, "Setting", err)

	// The rows they came from still open.
	if c, err := s.GetCredential(ctx, 1, 0); err != nil || c.Token != "inst" {
		t.Errorf("GetCredential(1, 0) = %v, %v", c, err)
	}
	if m, err := s.GetMirror(ctx, ms[0].ID); err != nil || m.HookSecret != "hook" {
		t.Errorf("GetMirror = %v, %v", m, err)
	}
}

func wantOpenErr(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, secret.ErrOpen) {
		t.Errorf("%s of a moved ciphertext: %v, want secret.ErrOpen", what, err)
	}
}
