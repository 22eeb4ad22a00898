package lfs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func pointerOf(data []byte) Pointer {
	sum := sha256.Sum256(data)
	return Pointer{OID: hex.EncodeToString(sum[:]), Size: int64(len(data))}
}

func TestVerifier(t *testing.T) {
	t.Parallel()
	data := bytes.Repeat([]byte("0123456789"), 1000)
	flipped := bytes.Clone(data)
	flipped[5000] ^= 1
	tests := map[string]struct {
		want   Pointer
		sent   []byte
		ok     bool
		passed int // bytes a reader may see before the failure, at most
	}{
		"whole":          {want: pointerOf(data), sent: data, ok: true},
		"empty":          {want: pointerOf(nil), sent: nil, ok: true},
		"one byte":       {want: pointerOf([]byte("x")), sent: []byte("x"), ok: true},
		"flipped byte":   {want: pointerOf(data), sent: flipped, passed: len(data) - 1},
		"one byte short": {want: pointerOf(data), sent: data[:len(data)-1], passed: len(data) - 1},
		"one byte more":  {want: pointerOf(data), sent: append(bytes.Clone(data), '!'), passed: len(data) - 1},
		"empty but sent": {want: pointerOf(nil), sent: []byte("x")},
		"nothing sent":   {want: pointerOf(data), sent: nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			v := newVerifier(iotest.HalfReader(bytes.NewReader(tc.sent)), tc.want)
			got, err := io.ReadAll(v)
			if tc.ok {
				if err != nil || !bytes.Equal(got, tc.sent) {
					t.Fatalf("read %d bytes, %v; want all %d", len(got), err, len(tc.sent))
				}
				return
			}
			if !errors.Is(err, errCorrupt) {
				t.Fatalf("err = %v, want errCorrupt", err)
			}
			if len(got) > tc.passed || int64(len(got)) >= max(tc.want.Size, 1) {
				t.Fatalf("passed on %d bytes of corrupt data; the reader must never see it all", len(got))
			}
		})
	}
}
