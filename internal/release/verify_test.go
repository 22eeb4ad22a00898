package release

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/forge"
)

func TestVerifier(t *testing.T) {
	t.Parallel()
	data := bytes.Repeat([]byte("0123456789"), 10000)
	sum := sha256.Sum256(data)
	good := "sha256:" + hex.EncodeToString(sum[:])
	tests := map[string]struct {
		src     []byte
		digest  string
		wantErr string
	}{
		"right digest":     {src: data, digest: good},
		"no digest":        {src: data},
		"wrong digest":     {src: append(bytes.Clone(data[:len(data)-1]), 'x'), digest: good, wantErr: "do not match its digest"},
		"short source":     {src: data[:500], wantErr: "ended after 500"},
		"longer than said": {src: append(bytes.Clone(data), "tail"...), digest: good},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			v := newVerifier(bytes.NewReader(tc.src), &forge.Asset{Size: int64(len(data)), Digest: tc.digest})
			got, err := io.ReadAll(v)
			if tc.wantErr == "" {
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("read %d bytes, err %v; want the %d bytes", len(got), err, len(data))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if len(got) >= len(data) {
				t.Errorf("the whole size went through before the error: a corrupt copy could land")
			}
		})
	}
}
