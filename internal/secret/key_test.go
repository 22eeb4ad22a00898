package secret_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/secret"
)

func TestLoadKey(t *testing.T) {
	t.Parallel()
	key := bytes.Repeat([]byte{0xfb, 0xef, 0x01, 0x7e}, 8) // has + and / in base64
	b64 := base64.StdEncoding.EncodeToString(key)
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}

	tests := map[string]struct {
		env     map[string]string
		want    []byte
		wantErr string // substring; "" means no error
	}{
		"absent":           {env: nil, want: nil},
		"hex":              {env: map[string]string{secret.EnvKey: hex.EncodeToString(key)}, want: key},
		"hex upper":        {env: map[string]string{secret.EnvKey: strings.ToUpper(hex.EncodeToString(key))}, want: key},
		"base64":           {env: map[string]string{secret.EnvKey: b64}, want: key},
		"base64 raw":       {env: map[string]string{secret.EnvKey: base64.RawStdEncoding.EncodeToString(key)}, want: key},
		"base64 url":       {env: map[string]string{secret.EnvKey: base64.URLEncoding.EncodeToString(key)}, want: key},
		"base64 url raw":   {env: map[string]string{secret.EnvKey: base64.RawURLEncoding.EncodeToString(key)}, want: key},
		"file":             {env: map[string]string{secret.EnvKeyFile: file("k1", b64)}, want: key},
		"file newline":     {env: map[string]string{secret.EnvKeyFile: file("k2", b64+"\n")}, want: key},
		"file crlf hex":    {env: map[string]string{secret.EnvKeyFile: file("k3", hex.EncodeToString(key)+"\r\n")}, want: key},
		"short":            {env: map[string]string{secret.EnvKey: base64.StdEncoding.EncodeToString(key[:16])}, wantErr: secret.EnvKey + ": key is 16 bytes"},
		"long":             {env: map[string]string{secret.EnvKey: base64.StdEncoding.EncodeToString(append(key, 1))}, wantErr: secret.EnvKey},
		"bad hex":          {env: map[string]string{secret.EnvKey: strings.Repeat("zz", 32)}, wantErr: secret.EnvKey + ": malformed hex"},
		"garbage":          {env: map[string]string{secret.EnvKey: "not a key!"}, wantErr: secret.EnvKey + ": malformed key"},
		"trailing space":   {env: map[string]string{secret.EnvKey: b64 + " "}, wantErr: secret.EnvKey},
		"both":             {env: map[string]string{secret.EnvKey: b64, secret.EnvKeyFile: file("k4", b64)}, wantErr: "both set"},
		"missing file":     {env: map[string]string{secret.EnvKeyFile: filepath.Join(dir, "nope")}, wantErr: secret.EnvKeyFile + ": error reading"},
		"empty file":       {env: map[string]string{secret.EnvKeyFile: file("k5", "\n")}, wantErr: secret.EnvKeyFile + ": empty key"},
		"file bad content": {env: map[string]string{secret.EnvKeyFile: file("k6", "abc\n")}, wantErr: secret.EnvKeyFile + ": key is 2 bytes"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := secret.LoadKey(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("LoadKey error = %v, want one containing %q", err, tt.wantErr)
				}
				if v := tt.env[secret.EnvKey]; len(v) > 8 && strings.Contains(err.Error(), v) {
					t.Errorf("error %q repeats the value", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadKey: %v", err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("LoadKey = %x, want %x", got, tt.want)
			}
		})
	}
}
