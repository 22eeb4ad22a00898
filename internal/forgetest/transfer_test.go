package forgetest

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestLargeChunkedPush pushes more than git's 1 MiB http.postBuffer, which
// git sends with chunked transfer encoding.
func TestLargeChunkedPush(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var chunked atomic.Int32
	b.f.OnRequest(func(r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/git-receive-pack") && len(r.TransferEncoding) > 0 {
			chunked.Add(1)
		}
	})
	blob := make([]byte, 4<<20)
	rng := rand.NewChaCha8([32]byte{1})
	rng.Read(blob)
	w := NewWork(t)
	head := w.Commit("big", map[string]string{"random.bin": string(blob)})
	if err := w.Push(b.f.GitURL("bob", "dst"), "bob", bobToken, "main"); err != nil {
		t.Fatal(err)
	}
	if chunked.Load() == 0 {
		t.Error("git did not send the push chunked; the test does not test buffering")
	}
	if got := b.f.Refs("bob", "dst")["refs/heads/main"]; got != head {
		t.Errorf("main = %s, want %s", got, head)
	}
	if err := b.f.Fsck("bob", "dst"); err != nil {
		t.Error(err)
	}
	if s := b.f.Stats(); s.ReceivePackRequestBytes < int64(len(blob)) {
		t.Errorf("ReceivePackRequestBytes = %d, want at least %d", s.ReceivePackRequestBytes, len(blob))
	}
}

// TestGzipRequest clones a repository with enough refs that git compresses
// its upload-pack request, which git http-backend must inflate.
func TestGzipRequest(t *testing.T) {
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
			w := NewWork(t)
			manyBranches(t, w, 200)
			if err := w.Push(b.f.GitURL("alice", "src"), "alice", aliceToken, "refs/heads/*:refs/heads/*"); err != nil {
				t.Fatal(err)
			}
			var gzipped atomic.Int32
			b.f.OnRequest(func(r *http.Request) {
				if r.Header.Get("Content-Encoding") == "gzip" {
					gzipped.Add(1)
				}
			})
			c, err := Clone(t, b.f.GitURL("alice", "src"), "bob", bobToken)
			if err != nil {
				t.Fatal(err)
			}
			if gzipped.Load() == 0 {
				t.Error("no gzip request body reached the forge")
			}
			if got, want := c.Rev("origin/b0199"), w.Rev("b0199"); got != want {
				t.Errorf("cloned b0199 = %s, want %s", got, want)
			}
		})
	}
}

// manyBranches makes n root commits b0000… in one git fast-import run.
func manyBranches(t *testing.T, w *Work, n int) {
	t.Helper()
	var stream strings.Builder
	for i := range n {
		msg := fmt.Sprintf("commit %d\n", i)
		fmt.Fprintf(&stream, "commit refs/heads/b%04d\ncommitter T <t@example.com> %d +0000\ndata %d\n%s\n",
			i, workEpoch, len(msg), msg)
	}
	cmd := exec.Command("git", "fast-import", "--quiet")
	cmd.Dir = w.Dir
	cmd.Env = gitEnv(w.home)
	cmd.Stdin = strings.NewReader(stream.String())
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("fast-import: %v", err)
	}
}

func TestStats(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts []Option
		// ls-refs POSTs of a clone: v2 lists refs in a POST of its own,
		// which is not counted as a fetch.
		cloneLsRefs int
	}{
		{"v2", nil, 1},
		{"v0", []Option{WithoutProtocolV2()}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tc.opts...)
			b.seed(t)
			s := b.f.Stats()
			if s.InfoRefsReceivePack != 1 || s.ReceivePackPOSTs != 1 || s.ReceivePackRequestBytes == 0 || s.ReceivePackResponseBytes == 0 {
				t.Errorf("after a push: %+v", s)
			}
			b.f.ResetStats()
			if _, err := Clone(t, b.f.GitURL("alice", "src"), "bob", bobToken); err != nil {
				t.Fatal(err)
			}
			s = b.f.Stats()
			if s.InfoRefsUploadPack != 1 || s.LsRefs != tc.cloneLsRefs || s.UploadPackPOSTs != 1 || s.UploadPackRequestBytes == 0 || s.UploadPackResponseBytes == 0 {
				t.Errorf("after a clone: %+v", s)
			}
			if s.InfoRefsReceivePack != 0 || s.ReceivePackPOSTs != 0 || s.ReceivePackRequestBytes != 0 {
				t.Errorf("receive-pack counts survived ResetStats: %+v", s)
			}
			// Refused requests count too.
			b.f.ResetStats()
			infoRefs(t, b.f, "wrong")
			if got := b.f.Stats(); got != (Stats{InfoRefsUploadPack: 1}) {
				t.Errorf("after a refused request: %+v", got)
			}
		})
	}
}

func TestWorkIsDeterministic(t *testing.T) {
	t.Parallel()
	var heads []string
	for range 2 {
		w := NewWork(t)
		w.Commit("one", map[string]string{"a/b.txt": "x"})
		w.Commit("two", map[string]string{"c": "y"})
		heads = append(heads, w.Tag("t", "HEAD", true))
	}
	if heads[0] != heads[1] {
		t.Errorf("same steps gave tags %s and %s", heads[0], heads[1])
	}
}

// TestCutPushBody sends a push whose body ends before its Content-Length,
// as a client killed mid-pack leaves it. git http-backend 2.39 spins
// forever on such a body; the forge must refuse it without starting git.
func TestCutPushBody(t *testing.T) {
	t.Parallel()
	b := setup(t)
	before := b.f.Refs("bob", "dst")
	u, err := url.Parse(b.f.GitURL("bob", "dst"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	auth := base64.StdEncoding.EncodeToString([]byte("bob:" + bobToken))
	fmt.Fprintf(c, "POST %s/git-receive-pack HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\n"+
		"Content-Type: application/x-git-receive-pack-request\r\nContent-Length: 1000\r\n\r\n0000PACK",
		u.Path, u.Host, auth)
	c.(*net.TCPConn).CloseWrite()
	// A deadline turns the old hang into a failure instead of a stuck run.
	c.SetReadDeadline(time.Now().Add(2 * time.Minute))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a cut push body: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status %d, want 400", resp.StatusCode)
	}
	if after := b.f.Refs("bob", "dst"); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("refs changed: %v -> %v", before, after)
	}
}
