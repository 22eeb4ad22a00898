package forgetest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func infoRefs(t *testing.T, f *Forge, token string) int {
	t.Helper()
	req, err := http.NewRequest("GET", f.GitURL("alice", "src")+"/info/refs?service=git-upload-pack", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("x-access-token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestFailNext(t *testing.T) {
	t.Parallel()
	for _, status := range []int{500, 502, 503, 429} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.seed(t)
			b.f.FailNext(2, status)
			// Failures come before authentication: even a wrong token sees them.
			for i, want := range []int{status, status, 401} {
				if got := infoRefs(t, b.f, "wrong"); got != want {
					t.Errorf("request %d: status %d, want %d", i, got, want)
				}
			}
			b.f.FailNext(1, status)
			w := NewWork(t)
			if err := w.Fetch(b.f.GitURL("alice", "src"), "alice", aliceToken); err == nil || !strings.Contains(err.Error(), fmt.Sprint(status)) {
				t.Errorf("fetch error = %v, want one with %d", err, status)
			}
			if err := w.Fetch(b.f.GitURL("alice", "src"), "alice", aliceToken); err != nil {
				t.Errorf("fetch after the failure: %v", err)
			}
		})
	}
}

func TestDropNextPackClone(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts []Option
	}{
		{"v2", nil},
		{"v0", []Option{WithoutProtocolV2()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tc.opts...)
			b.seed(t)
			b.f.DropNextPack()
			if _, err := Clone(t, b.f.GitURL("alice", "src"), "bob", bobToken); err == nil {
				t.Fatal("clone succeeded through a dropped connection")
			}
			if _, err := Clone(t, b.f.GitURL("alice", "src"), "bob", bobToken); err != nil {
				t.Errorf("clone after the drop: %v", err)
			}
		})
	}
}

// pkt is a pkt-line.
func pkt(s string) string { return fmt.Sprintf("%04x%s", len(s)+4, s) }

func TestDropNextPackCutsInsidePack(t *testing.T) {
	t.Parallel()
	b := setup(t)
	head := b.seed(t)["refs/heads/main"]
	post := func() ([]byte, error) {
		body := pkt("want "+head+" side-band-64k ofs-delta no-progress\n") + "0000" + pkt("done\n")
		req, err := http.NewRequest("POST", b.f.GitURL("alice", "src")+"/git-upload-pack", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth("bob", bobToken)
		req.Header.Set("Content-Type", "application/x-git-upload-pack-request")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		return io.ReadAll(resp.Body)
	}
	full, err := post()
	if err != nil {
		t.Fatal(err)
	}
	b.f.DropNextPack()
	b.f.ResetStats()
	cut, err := post()
	if err == nil {
		t.Fatal("response read to the end after DropNextPack")
	}
	i := bytes.Index(cut, []byte("PACK"))
	if i < 0 || len(cut) < i+packCutAfter {
		t.Fatalf("cut response %q does not carry %d bytes of pack", cut, packCutAfter)
	}
	// Side-band framing varies from run to run; the pack header does not.
	j := bytes.Index(full, []byte("PACK"))
	if j < 0 || !bytes.Equal(cut[i:i+12], full[j:j+12]) || len(cut) >= len(full) {
		t.Errorf("cut response %q does not start the full one %q", cut, full)
	}
	if got := b.f.Stats().UploadPackResponseBytes; got != int64(len(cut)) {
		t.Errorf("UploadPackResponseBytes = %d, want %d", got, len(cut))
	}
}

func TestRejectRef(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := NewWork(t)
	w.Commit("c1", map[string]string{"a": "1"})
	w.Branch("feature")
	w.Tag("v1", "HEAD", true)
	url := b.f.GitURL("bob", "dst")
	b.f.RejectRef("bob", "dst", "refs/heads/feature", "reject by mode")
	err := w.Push(url, "bob", bobToken, "main", "feature", "v1")
	if err == nil || !strings.Contains(err.Error(), "remote: reject by mode") {
		t.Errorf("push error = %v, want the hook's message", err)
	}
	refs := b.f.Refs("bob", "dst")
	if _, ok := refs["refs/heads/feature"]; ok || refs["refs/heads/main"] == "" || refs["refs/tags/v1"] == "" {
		t.Errorf("refs after a push with one rejected ref: %v", refs)
	}
	b.f.RejectRef("bob", "dst", "refs/heads/feature", "")
	if err := w.Push(url, "bob", bobToken, "feature"); err != nil {
		t.Errorf("push after lifting the rule: %v", err)
	}
}

func TestOnRequestMovesRefBeforePush(t *testing.T) {
	t.Parallel()
	b := setup(t)
	url := b.f.GitURL("bob", "dst")
	w := NewWork(t)
	c1 := w.Commit("c1", nil)
	if err := w.Push(url, "bob", bobToken, "main", "main:refs/heads/other"); err != nil {
		t.Fatal(err)
	}
	c2 := w.Commit("c2", nil)
	if err := w.Push(url, "bob", bobToken, "main:refs/heads/other"); err != nil {
		t.Fatal(err)
	}
	c3 := w.Commit("c3", nil)
	var calls atomic.Int32
	b.f.OnRequest(func(r *http.Request) {
		if r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/git-receive-pack") && calls.Add(1) == 1 {
			b.f.SetRef("bob", "dst", "refs/heads/main", c2) // someone else pushed
		}
	})
	if err := w.Push(url, "bob", bobToken, "main"); err == nil {
		t.Error("push succeeded although main moved after the client read it")
	}
	if got := b.f.Refs("bob", "dst")["refs/heads/main"]; got != c2 {
		t.Errorf("main = %s, want the concurrent value %s (not %s or %s)", got, c2, c1, c3)
	}
	b.f.OnRequest(nil)
	if err := w.Push(url, "bob", bobToken, "main"); err != nil {
		t.Errorf("push without the callback: %v", err)
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const d = 30 * time.Millisecond
	b.f.SetLatency(d)
	start := time.Now()
	if got := infoRefs(t, b.f, aliceToken); got != 200 {
		t.Fatalf("status %d", got)
	}
	if elapsed := time.Since(start); elapsed < d {
		t.Errorf("request took %v with latency %v", elapsed, d)
	}
}

// TestOnServeSeesAPIAndDrops: OnServe sees API requests as well as Git
// ones, and a request it drops is not served: a dropped push lands nothing.
func TestOnServeSeesAPIAndDrops(t *testing.T) {
	t.Parallel()
	b := setup(t)
	url := b.f.GitURL("bob", "dst")
	w := NewWork(t)
	c1 := w.Commit("c1", nil)
	if err := w.Push(url, "bob", bobToken, "main"); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string
	b.f.OnServe(func(rw http.ResponseWriter, r *http.Request, next http.Handler) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path)
		mu.Unlock()
		if r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/git-receive-pack") {
			http.Error(rw, "dropped", http.StatusBadGateway)
			return
		}
		next.ServeHTTP(rw, r)
	})
	req, err := http.NewRequest("GET", b.f.GitHubAPIURL()+"repos/bob/dst", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "token "+bobToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("API request through OnServe: %s", resp.Status)
	}
	w.Commit("c2", nil)
	if err := w.Push(url, "bob", bobToken, "main"); err == nil {
		t.Error("a dropped push succeeded")
	}
	if got := b.f.Refs("bob", "dst")["refs/heads/main"]; got != c1 {
		t.Errorf("main = %s after a dropped push, want %s", got, c1)
	}
	mu.Lock()
	got := strings.Join(seen, "\n")
	mu.Unlock()
	for _, want := range []string{"GET /api/v3/repos/bob/dst", "POST /bob/dst.git/git-receive-pack"} {
		if !strings.Contains(got, want) {
			t.Errorf("OnServe did not see %q; saw:\n%s", want, got)
		}
	}
	b.f.OnServe(nil)
	if err := w.Push(url, "bob", bobToken, "main"); err != nil {
		t.Errorf("push without OnServe: %v", err)
	}
}
