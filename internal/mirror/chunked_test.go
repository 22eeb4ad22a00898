package mirror_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// lengthProxy stands in front of the target like a CGI server that cannot
// take a chunked request body: it refuses one with status, and passes
// everything else on.
type lengthProxy struct {
	status int

	mu             sync.Mutex
	refused, sized int // receive-pack POSTs refused (chunked) and passed (with a length)
}

func (p *lengthProxy) start(t *testing.T, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/git-receive-pack") {
			p.mu.Lock()
			if r.ContentLength < 0 {
				p.refused++
				p.mu.Unlock()
				http.Error(w, "Chunked request bodies are not supported by CGI.", p.status)
				return
			}
			p.sized++
			p.mu.Unlock()
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + u.Path
}

// TestChunkedPushRefused: a target that refuses a chunked push (411, or
// net/http/cgi's 400) gets the push again with a Content-Length; when no
// attempt is left, the error names the cause.
func TestChunkedPushRefused(t *testing.T) {
	for _, status := range []int{http.StatusLengthRequired, http.StatusBadRequest} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			b := setup(t)
			seed(t, b)
			p := &lengthProxy{status: status}
			opts := b.options()
			opts.Target.URL = p.start(t, b.dst)
			res := b.sync(t, opts)
			if !res.OK() || res.Count(mirror.Created) == 0 {
				t.Fatalf("sync not OK: %+v", res)
			}
			b.assertInSync(t)
			if p.refused != 1 || p.sized == 0 {
				t.Errorf("chunked pushes refused %d, sized pushes %d; want 1 and some", p.refused, p.sized)
			}
		})
	}
	t.Run("no attempt left", func(t *testing.T) {
		b := setup(t)
		seed(t, b)
		p := &lengthProxy{status: http.StatusLengthRequired}
		opts := b.options()
		opts.Target.URL = p.start(t, b.dst)
		opts.Attempts = 1
		_, err := mirror.Sync(context.Background(), opts)
		if err == nil {
			t.Fatal("sync succeeded with one attempt against a server refusing chunked pushes")
		}
		if msg := err.Error(); !strings.Contains(msg, "chunked") || !strings.Contains(msg, "411") {
			t.Errorf("error %q does not name the cause", msg)
		}
		if got := failure.ClassOf(err); got != failure.Network {
			t.Errorf("class %q, want network (transient: the next sync sends a length)", got)
		}
	})
}
