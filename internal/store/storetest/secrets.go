package storetest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// FileBacked is implemented by backends that keep everything in files next
// to Path (the SQLite file with its -wal and -shm files). The suite reads
// those bytes to prove that no secret is stored in plain text. A backend
// without files (Postgres) is checked by what it does implement.
type FileBacked interface {
	Path() string
}

// Dumper is implemented (in its tests) by a backend without files: Dump
// returns the raw bytes of every stored value (a bytea as its bytes, not
// as hex), for the same scan.
type Dumper interface {
	Dump(ctx context.Context) ([]byte, error)
}

// canaries are secrets the suite stores and then looks for in raw bytes.
var canaries = []string{
	"canary-credential-token-5f3a9c",
	"canary-mirror-token-77b2e1",
	"canary-hook-secret-c04d8e",
	"canary-hook-secret-set-1a9f44",
	"canary-secret-setting-e6b130",
}

// storeCanaries stores every canary through the API and returns the
// mirrors it made.
func storeCanaries(t *testing.T, b *bundle) (withSecret, withHook, plain *store.Mirror) {
	t.Helper()
	b.installation(t, 1)
	withSecret = newMirror(1, 1, "a")
	withSecret.HookSecret = canaries[2]
	b.mirror(t, withSecret)
	withHook = b.mirror(t, newMirror(1, 2, "a"))
	noErr(t, "SetMirrorHook", b.s.SetMirrorHook(b.ctx, withHook.ID, canaries[3], 5))
	plain = b.mirror(t, newMirror(1, 3, "a"))
	noErr(t, "SetCredential", b.s.SetCredential(b.ctx, store.Credential{InstallationID: 1, Login: "bot", Token: canaries[0]}))
	noErr(t, "SetCredential", b.s.SetCredential(b.ctx, store.Credential{InstallationID: 1, MirrorID: plain.ID, Token: canaries[1]}))
	noErr(t, "SetSetting", b.s.SetSetting(b.ctx, "webhook_secret", canaries[4], true))
	noErr(t, "SetSetting", b.s.SetSetting(b.ctx, "public_url", "https://plain-setting.example", false))
	return withSecret, withHook, plain
}

// checkFiles fails if any canary appears in the files of path (path and
// path-wal, path-shm…), or if a plain setting appears in none of them (the
// scan would prove nothing).
func checkFiles(t *testing.T, path, when string) {
	t.Helper()
	files, err := filepath.Glob(path + "*")
	noErr(t, "Glob", err)
	if len(files) == 0 {
		t.Fatalf("%s: no files at %s", when, path)
	}
	var all []byte
	for _, f := range files {
		raw, err := os.ReadFile(f)
		noErr(t, "ReadFile", err)
		all = append(all, raw...)
	}
	checkBytes(t, all, when+": "+strings.Join(files, ", "))
}

// checkBytes fails if any canary appears in raw, or if the plain setting
// does not (the scan would prove nothing).
func checkBytes(t *testing.T, raw []byte, where string) {
	t.Helper()
	for _, c := range canaries {
		if bytes.Contains(raw, []byte(c)) {
			t.Errorf("secret %q stored in plain text in %s", c, where)
		}
	}
	if !bytes.Contains(raw, []byte("https://plain-setting.example")) {
		t.Errorf("a plain setting is not in %s: the scan proves nothing", where)
	}
}

func testSecrets(t *testing.T, open Opener) {
	t.Run("NotInPlainText", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		storeCanaries(t, b)
		if d, ok := b.s.(Dumper); ok {
			raw, err := d.Dump(b.ctx)
			noErr(t, "Dump", err)
			checkBytes(t, raw, "the dump")
			return
		}
		fb, ok := b.s.(FileBacked)
		if !ok || fb.Path() == "" || fb.Path() == ":memory:" {
			t.Skip("backend keeps no files to scan")
		}
		checkFiles(t, fb.Path(), "while open")
		noErr(t, "Close", b.s.Close())
		checkFiles(t, fb.Path(), "after Close")
	})

	t.Run("ReadBack", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		withSecret, withHook, plain := storeCanaries(t, b)
		if got := b.get(t, withSecret.ID).HookSecret; got != canaries[2] {
			t.Errorf("HookSecret = %q", got)
		}
		if got := b.get(t, withHook.ID).HookSecret; got != canaries[3] {
			t.Errorf("HookSecret = %q", got)
		}
		if c, err := b.s.GetCredential(b.ctx, 1, withSecret.ID); err != nil || c.Token != canaries[0] {
			t.Errorf("GetCredential = %v, %v", c, err)
		}
		if c, err := b.s.GetCredential(b.ctx, 1, plain.ID); err != nil || c.Token != canaries[1] {
			t.Errorf("GetCredential = %v, %v", c, err)
		}
		if v, err := b.s.Setting(b.ctx, "webhook_secret"); err != nil || v != canaries[4] {
			t.Errorf("Setting = %q, %v", v, err)
		}
	})

	t.Run("KeyNeededToRead", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		withSecret, withHook, plain := storeCanaries(t, b)
		noErr(t, "Close", b.s.Close())

		// The key is gone: secrets must not read as empty (an empty hook
		// secret must never pass for "no verification").
		nb := &bundle{ctx: t.Context(), s: open(t, false)}
		noSecret := func(what string, err error) {
			t.Helper()
			wantErr(t, what+" without the key", err, store.ErrNoKey)
			for _, c := range canaries {
				if err != nil && strings.Contains(err.Error(), c) {
					t.Errorf("%s: error %q contains a secret", what, err)
				}
			}
		}
		_, err := nb.s.GetMirror(nb.ctx, withSecret.ID)
		noSecret("GetMirror", err)
		_, err = nb.s.GetMirrorByHookID(nb.ctx, withHook.HookID)
		noSecret("GetMirrorByHookID", err)
		_, err = nb.s.GetCredential(nb.ctx, 1, plain.ID)
		noSecret("GetCredential", err)
		_, err = nb.s.Setting(nb.ctx, "webhook_secret")
		noSecret("Setting", err)

		// Everything else still reads.
		if m := nb.get(t, plain.ID); m.HookSecret != "" || m.HookID != plain.HookID {
			t.Errorf("mirror without a hook secret: %+v", m)
		}
		if _, err := nb.s.GetInstallation(nb.ctx, 1); err != nil {
			t.Errorf("GetInstallation: %v", err)
		}
		if v, err := nb.s.Setting(nb.ctx, "public_url"); err != nil || v != "https://plain-setting.example" {
			t.Errorf("plain Setting = %q, %v", v, err)
		}
		noErr(t, "Close", nb.s.Close())

		// With the key back, all of it reads again.
		kb := &bundle{ctx: t.Context(), s: open(t, true)}
		if c, err := kb.s.GetCredential(kb.ctx, 1, plain.ID); err != nil || c.Token != canaries[1] {
			t.Errorf("GetCredential with the key again = %v, %v", c, err)
		}
	})
}
