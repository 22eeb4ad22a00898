package mirror_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/logtest"

	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// Tokens of the test forge. The source token can only read the source, the
// target token can only write the target.
const (
	srcToken   = "src-token-0123456789"
	dstToken   = "dst-token-9876543210"
	adminToken = "admin-token-55555"
)

// bundle is one source/target pair on a fresh forge, with a work tree that
// pushes to either side as an admin.
type bundle struct {
	forge *forgetest.Forge
	work  *forgetest.Work
	src   string // git URL
	dst   string
	logs  *syncBuffer
}

func setup(t *testing.T, opts ...forgetest.Option) *bundle {
	t.Helper()
	t.Parallel()
	f := forgetest.New(t, opts...)
	f.AddUser("alice", srcToken)
	f.AddUser("bob", dstToken)
	f.AddUser("admin", adminToken)
	f.CreateRepo("gh", "proj")
	f.CreateRepo("ge", "proj")
	f.Grant("alice", "gh", "proj", forgetest.Read)
	f.Grant("bob", "ge", "proj", forgetest.Write)
	f.Grant("admin", "gh", "*", forgetest.Write)
	f.Grant("admin", "ge", "*", forgetest.Write)
	return &bundle{
		forge: f, work: forgetest.NewWork(t),
		src: f.GitURL("gh", "proj"), dst: f.GitURL("ge", "proj"),
		logs: &syncBuffer{},
	}
}

// options for a sync of the bundle, with fast retries.
func (b *bundle) options() mirror.Options {
	return mirror.Options{
		Source:     mirror.Endpoint{URL: b.src, Username: "alice", Token: srcToken},
		Target:     mirror.Endpoint{URL: b.dst, Username: "bob", Token: dstToken},
		RetryDelay: 10 * time.Millisecond,
		Logger:     slog.New(slog.NewTextHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Timeout:    2 * time.Minute,
	}
}

func (b *bundle) sync(t *testing.T, opts mirror.Options) *mirror.Result {
	t.Helper()
	res, err := mirror.Sync(context.Background(), opts)
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	return res
}

// pushSource pushes refspecs from the work tree to the source repository.
func (b *bundle) pushSource(t *testing.T, refspecs ...string) {
	t.Helper()
	if err := b.work.Push(b.src, "admin", adminToken, refspecs...); err != nil {
		t.Fatalf("push to source: %v", err)
	}
}

func (b *bundle) pushTarget(t *testing.T, refspecs ...string) {
	t.Helper()
	if err := b.work.Push(b.dst, "admin", adminToken, refspecs...); err != nil {
		t.Fatalf("push to target: %v", err)
	}
}

// mirrored returns the branches and tags of a repository.
func mirrored(f *forgetest.Forge, owner string) map[string]string {
	out := map[string]string{}
	for ref, id := range f.Refs(owner, "proj") {
		if strings.HasPrefix(ref, "refs/heads/") || strings.HasPrefix(ref, "refs/tags/") {
			out[ref] = id
		}
	}
	return out
}

// assertInSync checks identical branches and tags and a clean fsck.
func (b *bundle) assertInSync(t *testing.T) {
	t.Helper()
	src, dst := mirrored(b.forge, "gh"), mirrored(b.forge, "ge")
	for ref, id := range src {
		if dst[ref] != id {
			t.Errorf("target %s = %q, want %q", ref, dst[ref], id)
		}
	}
	for ref := range dst {
		if _, ok := src[ref]; !ok {
			t.Errorf("target has %s, source does not", ref)
		}
	}
	if err := b.forge.Fsck("ge", "proj"); err != nil {
		t.Errorf("fsck target: %v", err)
	}
}

func outcome(res *mirror.Result, ref string) mirror.RefResult {
	for _, r := range res.Refs {
		if r.Ref == ref {
			return r
		}
	}
	return mirror.RefResult{Outcome: "absent"}
}

// hasV2Command reports whether r is a protocol version 2 request for
// command (e.g. "ls-refs", "fetch"), reading its body and putting it back
// for the forge.
func hasV2Command(t *testing.T, r *http.Request, command string) bool {
	t.Helper()
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/git-upload-pack") {
		return false
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Error(err)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return bytes.Contains(body, []byte("command="+command+"\n"))
}

// syncBuffer is the shared concurrent-safe log sink.
type syncBuffer = logtest.Buffer
