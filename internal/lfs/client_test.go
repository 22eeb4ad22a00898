package lfs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/lfs"
)

// TestStorageElsewhereGetsNoCredentials: links to another host get the
// action's headers, never Git's credentials.
func TestStorageElsewhereGetsNoCredentials(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var auth []string
	storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = append(auth, r.Header.Values("Authorization")...)
		mu.Unlock()
		fmt.Fprint(w, "x")
	}))
	defer storage.Close()
	const oid = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881" // sha256("x")
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, tok, ok := r.BasicAuth(); !ok || tok != "git-token-1234" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.git-lfs+json")
		fmt.Fprintf(w, `{"objects":[{"oid":%q,"size":1,"actions":{"download":{"href":%q,"header":{"Authorization":"Signed abc"}}}}]}`, oid, storage.URL+"/obj")
	}))
	defer api.Close()
	c, err := lfs.NewClient(lfs.Remote{Side: "source", GitURL: api.URL + "/o/r.git", Username: "u", Token: "git-token-1234"}, nil, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := c.Batch(context.Background(), lfs.Download, []lfs.Pointer{{OID: oid, Size: 1}})
	if err != nil || len(objs) != 1 {
		t.Fatalf("Batch = %v, %v", objs, err)
	}
	// Download through a Copier to a target that lacks the object.
	target := fakeTarget(t)
	dst, err := lfs.NewClient(lfs.Remote{Side: "target", GitURL: target.URL + "/o/r.git", Token: "dst-token-1234"}, nil, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := (&lfs.Copier{Source: c, Target: dst}).Copy(context.Background(), []lfs.Pointer{{OID: oid, Size: 1}})
	if err != nil || !rep.Complete() {
		t.Fatalf("Copy = %+v, %v", rep, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(auth) != 1 || auth[0] != "Signed abc" {
		t.Errorf("storage on another host got Authorization %q, want only the action's header", auth)
	}
}

// fakeTarget is an LFS server that lacks every object and stores uploads
// nowhere.
func fakeTarget(t *testing.T) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			_, _ = io.Copy(io.Discard, r.Body)
			return
		}
		var req struct {
			Objects []lfs.Pointer `json:"objects"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		var out []map[string]any
		for _, o := range req.Objects {
			out = append(out, map[string]any{"oid": o.OID, "size": o.Size,
				"actions": map[string]any{"upload": map[string]string{"href": srv.URL + "/put/" + o.OID}}})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"objects": out})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestBatchAnswers(t *testing.T) {
	t.Parallel()
	const oid = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
	tests := map[string]struct {
		status int
		body   string
		class  failure.Class
		noLFS  bool
	}{
		"not found":       {status: 404, body: `{"message":"LFS is disabled"}`, noLFS: true},
		"not implemented": {status: 501, noLFS: true},
		"forbidden":       {status: 403, noLFS: true},
		"unauthorized":    {status: 401, class: failure.Auth},
		"server error":    {status: 502, class: failure.Network},
		"rate limited":    {status: 429, class: failure.RateLimited},
		"not JSON":        {status: 200, body: "<html>", class: failure.Internal},
		"other transfer":  {status: 200, body: `{"transfer":"ssh","objects":[]}`, class: failure.Internal},
		"unasked object":  {status: 200, body: `{"objects":[{"oid":"` + strings.Repeat("0", 64) + `","size":1}]}`, class: failure.Internal},
		"too large":       {status: 200, body: `{"objects":[{"oid":"` + oid + `","size":1,"x":"` + strings.Repeat("a", 9<<20) + `"}]}`, class: failure.Internal},
		"bad expiry":      {status: 200, body: `{"objects":[{"oid":"` + oid + `","size":1,"actions":{"download":{"href":"http://x/","expires_at":"soon"}}}]}`, class: failure.Internal},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if got := r.Header.Get("Accept"); got != "application/vnd.git-lfs+json" {
					t.Errorf("Accept = %q", got)
				}
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			}))
			defer srv.Close()
			c, err := lfs.NewClient(lfs.Remote{Side: "target", GitURL: srv.URL + "/o/r", Token: "secret-token-99"}, nil, "test", nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Batch(context.Background(), lfs.Upload, []lfs.Pointer{{OID: oid, Size: 1}})
			if err == nil {
				t.Fatal("Batch succeeded")
			}
			var ue *lfs.UnavailableError
			if got := errors.As(err, &ue); got != tc.noLFS {
				t.Fatalf("err = %v; no-LFS = %v, want %v", err, got, tc.noLFS)
			}
			if !tc.noLFS && failure.ClassOf(err) != tc.class {
				t.Errorf("class of %v = %s, want %s", err, failure.ClassOf(err), tc.class)
			}
			if strings.Contains(err.Error(), "secret-token-99") {
				t.Errorf("error leaks the token: %v", err)
			}
		})
	}
}

func TestEndpointURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://gitee.com/o/r.git":   "https://gitee.com/o/r.git/info/lfs",
		"https://gitee.com/o/r":       "https://gitee.com/o/r.git/info/lfs",
		"https://github.com/o/r.git/": "https://github.com/o/r.git/info/lfs",
	} {
		c, err := lfs.NewClient(lfs.Remote{Side: "source", GitURL: in}, nil, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.URL(); got != want {
			t.Errorf("URL for %s = %s, want %s", in, got, want)
		}
	}
	for _, bad := range []string{"ssh://git@x/o/r", "https://u:p@x/o/r", "https://x/o/r?token=1", "x"} {
		if _, err := lfs.NewClient(lfs.Remote{Side: "source", GitURL: bad}, nil, "", nil); err == nil {
			t.Errorf("NewClient accepted %q", bad)
		}
	}
}
