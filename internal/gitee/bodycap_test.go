package gitee

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
)

// TestOversizedAnswerRefused: an API server that answers with an endless
// body gets a classified error after maxBody bytes, not an out-of-memory
// death or a misleading "not JSON"; the rest is never read.
func TestOversizedAnswerRefused(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	sent := make(chan int, 1)
	f.handle("GET /user", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"login":"`)
		chunk := []byte(strings.Repeat("a", 64<<10))
		n := 0
		for ; n < 8*maxBody; n += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				break // the client hung up
			}
		}
		sent <- n
	})
	c := f.client(t)
	_, err := c.User(context.Background())
	if got := failure.ClassOf(err); got != failure.Rejected {
		t.Fatalf("class %q (%v), want rejected", got, err)
	}
	for _, want := range []string{"GET /user", "more than 16 MiB"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	checkNoSecret(t, err)
	// What the server got out is what was read plus the sockets' buffers.
	if n := <-sent; n >= 8*maxBody {
		t.Errorf("the server wrote all %d MiB: the client read it all", n>>20)
	}
}
