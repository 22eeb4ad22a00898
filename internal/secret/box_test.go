package secret_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/secret"
)

func newKey(t *testing.T) []byte {
	t.Helper()
	key := make([]byte, secret.KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	return key
}

func newBox(t *testing.T) *secret.Box {
	t.Helper()
	b, err := secret.NewBox(newKey(t))
	if err != nil {
		t.Fatalf("NewBox: %v", err)
	}
	return b
}

func TestNewBoxKeyLength(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 16, 24, 31, 33, 64} {
		if _, err := secret.NewBox(make([]byte, n)); err == nil {
			t.Errorf("NewBox with a %d-byte key: no error", n)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	box := newBox(t)
	ad := []byte("credential:1:0")
	for _, plain := range [][]byte{[]byte("gitee-token-canary"), {}, bytes.Repeat([]byte{0xff}, 4096)} {
		sealed, err := box.Seal(plain, ad)
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		if len(plain) > 0 && bytes.Contains(sealed, plain) {
			t.Errorf("sealed value contains the plaintext")
		}
		if sealed[0] != 1 {
			t.Errorf("version byte = %d, want 1", sealed[0])
		}
		got, err := box.Open(sealed, ad)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if !bytes.Equal(got, plain) {
			t.Errorf("Open = %q, want %q", got, plain)
		}
	}
}

func TestSealUsesFreshNonces(t *testing.T) {
	t.Parallel()
	box := newBox(t)
	a, _ := box.Seal([]byte("same"), nil)
	b, _ := box.Seal([]byte("same"), nil)
	if bytes.Equal(a, b) {
		t.Error("two seals of the same plaintext are equal")
	}
}

func TestOpenRejects(t *testing.T) {
	t.Parallel()
	box := newBox(t)
	ad := []byte("credential:1:2")
	sealed, err := box.Seal([]byte("token"), ad)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		c := bytes.Clone(sealed)
		c[i] ^= 0x01
		return c
	}
	tests := map[string]struct {
		box    *secret.Box
		sealed []byte
		ad     []byte
	}{
		"tampered ciphertext": {box, flip(len(sealed) / 2), ad},
		"tampered tag":        {box, flip(len(sealed) - 1), ad},
		"tampered nonce":      {box, flip(1), ad},
		"unknown version":     {box, flip(0), ad},
		"truncated":           {box, sealed[:20], ad},
		"empty":               {box, nil, ad},
		"wrong row":           {box, sealed, []byte("credential:1:3")},
		"no associated data":  {box, sealed, nil},
		"wrong key":           {newBox(t), sealed, ad},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.box.Open(tt.sealed, tt.ad)
			if !errors.Is(err, secret.ErrOpen) {
				t.Fatalf("Open = %q, %v; want ErrOpen", got, err)
			}
			if bytes.Contains([]byte(err.Error()), []byte("token")) {
				t.Errorf("error %q repeats the secret", err)
			}
		})
	}
}
