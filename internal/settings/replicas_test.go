package settings

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// TestSignInAcrossReplicas puts two handlers (two replicas, one store, one
// key) behind a round-robin balancer: the sign-in leaves from one, comes
// back from GitHub to the other, and the next page is served by the first
// again, signed in.
func TestSignInAcrossReplicas(t *testing.T) {
	t.Parallel()
	tb := setup(t, true)
	second, err := New(Options{Config: tb.cfg, Store: tb.store, Queue: tb.queue, Sites: tb.h.opts.Sites, SessionKey: []byte(strings.Repeat("k", 32)),
		OnRegistered: func(context.Context) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	var served [2]atomic.Int64
	replicas := []http.Handler{tb.h, second}
	tb.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1) % 2
		served[i].Add(1)
		replicas[i].ServeHTTP(w, r)
	})

	b := tb.browser(t)
	b.signIn("alice") // login on one replica, callback on the other
	code, body := b.get(Prefix + "/")
	if code != http.StatusOK || !strings.Contains(body, "Signed in as <strong>alice</strong>") {
		t.Fatalf("next page: %d\n%s", code, body)
	}
	if served[0].Load() == 0 || served[1].Load() == 0 {
		t.Fatalf("requests per replica %d, %d: the balancer did not spread them", served[0].Load(), served[1].Load())
	}
}
