// Package secret seals small secrets (tokens, webhook secrets) with
// AES-256-GCM before they reach the database.
//
// A sealed value is
//
//	version (1 byte) || nonce (12 bytes) || ciphertext || tag (16 bytes)
//
// The version byte names the format and key generation, so that keys can be
// rotated later without guessing which key sealed a value. Callers bind every
// value to its row with associated data (e.g. "credential:<inst>:<mirror>"),
// so a ciphertext copied into another row does not open.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// KeySize is the length of a key in bytes (AES-256).
const KeySize = 32

// version1 is the first format: AES-256-GCM, random 12-byte nonce.
const version1 byte = 1

// ErrOpen is returned by Open when a sealed value cannot be opened: the key
// changed, the value was tampered with, or it belongs to another row.
var ErrOpen = errors.New("secret: cannot decrypt: wrong key, or data altered or moved")

// Box seals and opens secrets with one key. It is safe for concurrent use.
type Box struct {
	aead cipher.AEAD
}

// NewBox returns a Box for a 32-byte key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secret: key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("error creating cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("error creating GCM: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plaintext, authenticating associatedData with it. The
// result is safe to store; associatedData is not part of it and must be
// given again to Open.
func (b *Box) Seal(plaintext, associatedData []byte) ([]byte, error) {
	ns := b.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plaintext)+b.aead.Overhead())
	out[0] = version1
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("error generating nonce: %w", err)
	}
	return b.aead.Seal(out, out[1:], plaintext, associatedData), nil
}

// Open decrypts a value made by Seal with the same associatedData. It
// returns ErrOpen when the value does not authenticate.
func (b *Box) Open(sealed, associatedData []byte) ([]byte, error) {
	ns := b.aead.NonceSize()
	if len(sealed) < 1+ns+b.aead.Overhead() {
		return nil, fmt.Errorf("%w (too short)", ErrOpen)
	}
	if sealed[0] != version1 {
		return nil, fmt.Errorf("%w (unknown format version %d)", ErrOpen, sealed[0])
	}
	plain, err := b.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], associatedData)
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}
