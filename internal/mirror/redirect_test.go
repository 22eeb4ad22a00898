package mirror_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// TestRedirectsBounded: a Git server may redirect within its own host a few
// times; a redirect to another host (which would carry the token there) and
// an endless chain are refused with a classified error.
func TestRedirectsBounded(t *testing.T) {
	t.Parallel()
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		http.NotFound(w, r)
	}))
	t.Cleanup(other.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/away/"):
			http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusFound)
		case strings.HasPrefix(r.URL.Path, "/loop/"):
			http.Redirect(w, r, r.URL.RequestURI(), http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	// The App's client hands a cross-host redirect back as the answer.
	handBack := &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != via[0].URL.Host {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	tests := map[string]struct {
		path   string
		client *http.Client // nil: the default
		class  failure.Class
		want   string
	}{
		"to another host": {"/away/proj.git", nil, failure.Invalid, "redirected to another host"},
		"endless":         {"/loop/proj.git", nil, failure.Network, "stopped after 5 redirects"},
		"handed back by the caller's client": {"/away/proj.git", handBack, failure.Invalid,
			"redirected to " + strings.TrimPrefix(other.URL, "http://") + ", which is not followed"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := mirror.Sync(context.Background(), mirror.Options{
				Source:     mirror.Endpoint{URL: srv.URL + tt.path, Token: srcToken},
				Target:     mirror.Endpoint{URL: srv.URL + "/target.git", Token: dstToken},
				Attempts:   1,
				Timeout:    time.Minute,
				HTTPClient: tt.client,
			})
			if got := failure.ClassOf(err); got != tt.class {
				t.Fatalf("class %q (%v), want %q", got, err, tt.class)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "source") {
				t.Errorf("error %q does not say %q about the source", err, tt.want)
			}
		})
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the other host got %d requests", n)
	}
}
