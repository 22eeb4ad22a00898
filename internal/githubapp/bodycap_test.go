package githubapp

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
)

// endless answers with JSON that never ends (up to 4×maxAPIBody, so that the
// handler stops by itself), as a hostile or broken server might.
func endless(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"name":"`)
	chunk := []byte(strings.Repeat("a", 64<<10))
	for sent := 0; sent < 4*maxAPIBody; sent += len(chunk) {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

// TestOversizedAnswersRefused: every API answer, including the installation
// token answers that ghinstallation reads itself, is read to maxAPIBody at
// most, and an answer beyond it is a classified error naming the request.
func TestOversizedAnswersRefused(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		call func(t *testing.T) error
		want string
	}{
		"repository": {
			call: func(t *testing.T) error {
				c, mux, _ := setup(t)
				mux.HandleFunc("/repos/o/r", endless)
				_, err := c.GetRepo(context.Background(), "o", "r")
				return err
			},
			want: "GET /api-v3/repos/o/r",
		},
		"repository token of the App": {
			call: func(t *testing.T) error {
				app, mux, _ := setupApp(t)
				mux.HandleFunc("/app/installations/42/access_tokens", endless)
				_, _, err := app.RepoToken(context.Background(), 42, "r")
				return err
			},
			want: "POST /api-v3/app/installations/42/access_tokens",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := tt.call(t)
			if got := failure.ClassOf(err); got != failure.Rejected {
				t.Fatalf("class %q (%v), want rejected", got, err)
			}
			for _, want := range []string{tt.want, "more than 16 MiB"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if strings.Contains(err.Error(), canary) {
				t.Errorf("error leaks the token: %v", err)
			}
		})
	}
}

// TestDownloadsAreNotCapped: a release asset is a stream of any size, not
// an API answer.
func TestDownloadsAreNotCapped(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	size := maxAPIBody + 1<<20
	mux.HandleFunc("/repos/o/r/releases/assets/7", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(bytes.Repeat([]byte{'z'}, size))
	})
	body, err := c.DownloadAsset(context.Background(), "o", "r", &forge.Release{TagName: "v1"}, &forge.Asset{ID: 7, Name: "a.bin"})
	if err != nil {
		t.Fatalf("DownloadAsset: %v", err)
	}
	defer body.Close()
	n, err := io.Copy(io.Discard, body)
	if err != nil || n != int64(size) {
		t.Errorf("read %d bytes (%v), want %d", n, err, size)
	}
}
