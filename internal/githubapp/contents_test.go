package githubapp

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
)

func TestRepoFile(t *testing.T) {
	t.Parallel()
	client, mux, _ := setup(t)
	body := "target: acme/widget\n"
	mux.HandleFunc("/repos/o/r/contents/.github/gitee-mirror.yml", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, "GET")
		testFormValues(t, r, values{"ref": "main"})
		testHeader(t, r, "Authorization", "Bearer "+canary)
		fmt.Fprintf(w, `{"type":"file","encoding":"base64","sha":"abc123","path":".github/gitee-mirror.yml","content":%q}`,
			base64.StdEncoding.EncodeToString([]byte(body)))
	})
	got, sha, err := client.RepoFile(context.Background(), "o", "r", ".github/gitee-mirror.yml", "main")
	if err != nil {
		t.Fatalf("RepoFile: %v", err)
	}
	if string(got) != body || sha != "abc123" {
		t.Errorf("RepoFile = %q, %q; want %q, %q", got, sha, body, "abc123")
	}
}

func TestRepoFile_Errors(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		path    string
		handler http.HandlerFunc // nil: no request expected
		class   failure.Class
		words   []string
	}{
		"not found": {
			path:    "missing.yml",
			handler: func(w http.ResponseWriter, _ *http.Request) { errorJSON(w, http.StatusNotFound, "Not Found") },
			class:   failure.NotFound, words: []string{"missing.yml", "o/r", "does not exist"},
		},
		"forbidden": {
			path: "f.yml",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				errorJSON(w, http.StatusForbidden, "Resource not accessible by integration")
			},
			class: failure.Permission, words: []string{"contents: read"},
		},
		"directory": {
			path:    "dir",
			handler: func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, `[{"type":"file","name":"a"}]`) },
			class:   failure.Invalid, words: []string{"directory"},
		},
		"too large": {
			path: "big.yml",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				fmt.Fprint(w, `{"type":"file","encoding":"none","sha":"s","content":""}`)
			},
			class: failure.Invalid, words: []string{"too large"},
		},
		"symlink": {
			path:    "link.yml",
			handler: func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, `{"type":"symlink","target":"x"}`) },
			class:   failure.Invalid, words: []string{"symlink"},
		},
		"dotdot":   {path: "../x", class: failure.Invalid, words: []string{"relative"}},
		"absolute": {path: "/x", class: failure.Invalid, words: []string{"relative"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			client, mux, _ := setup(t)
			mux.HandleFunc("/repos/o/r/contents/", func(w http.ResponseWriter, r *http.Request) {
				if tt.handler == nil {
					t.Errorf("unexpected request %s", r.URL)
					return
				}
				tt.handler(w, r)
			})
			_, _, err := client.RepoFile(context.Background(), "o", "r", tt.path, "")
			testError(t, err, tt.class, tt.words...)
		})
	}
}
