package mirror_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// A commit on each side: the two legs push at the same time. The forge
// holds the target's push until the source's has arrived; legs run one
// after the other would only get there when the hold gives up.
func TestTwoWayLegsPushAtTheSameTime(t *testing.T) {
	b, opts := twoWay(t)
	w := b.work
	w.Commit("base", map[string]string{"a.txt": "1"})
	b.pushSource(t, "main")
	w.Branch("side")
	b.pushSource(t, "side")
	b.sync(t, opts)

	w.Commit("on the source", map[string]string{"s.txt": "s"})
	b.pushSource(t, "side")
	w.Checkout("main")
	w.Commit("on the target", map[string]string{"t.txt": "t"})
	b.pushTarget(t, "main")

	sourcePush := make(chan struct{})
	var once sync.Once
	var overlapped bool
	b.forge.OnRequest(func(r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "git-receive-pack") {
			return
		}
		if strings.Contains(r.URL.Path, "/gh/") {
			once.Do(func() { close(sourcePush) })
			return
		}
		select {
		case <-sourcePush:
			overlapped = true
		case <-time.After(time.Minute): // only a fallback: the sync ends either way
		}
	})
	res := b.sync(t, opts)
	b.forge.OnRequest(nil)
	if got := outcome(res, "refs/heads/side"); got.Outcome != mirror.Updated || got.Side != mirror.SideTarget {
		t.Errorf("side = %+v, want fast-forwarded on the target", got)
	}
	if got := outcome(res, "refs/heads/main"); got.Outcome != mirror.Updated || got.Side != mirror.SideSource {
		t.Errorf("main = %+v, want fast-forwarded on the source", got)
	}
	if !overlapped {
		t.Error("the push to the target was not under way when the source's arrived: the legs ran one after the other")
	}
	b.assertInSync(t)
}

// The leg from the target to the source learns the capabilities of the
// target's upload-pack and the source's receive-pack once, and later syncs
// list each side once only.
func TestTwoWayRemembersCapabilities(t *testing.T) {
	b, opts := twoWay(t)
	w := b.work
	w.Commit("base", map[string]string{"a.txt": "1"})
	b.pushSource(t, "main")
	b.sync(t, opts)

	for i, wantListings := range []int{4, 2} {
		w.Commit("on the target", map[string]string{"t.txt": string(rune('a' + i))})
		b.pushTarget(t, "main")
		b.forge.ResetStats()
		res := b.sync(t, opts)
		if got := outcome(res, "refs/heads/main"); got.Outcome != mirror.Updated || got.Side != mirror.SideSource {
			t.Fatalf("sync %d: main = %+v, want fast-forwarded on the source", i+1, got)
		}
		st := b.forge.Stats()
		if got := st.Listings(); got != wantListings || st.UploadPackPOSTs != 1 || st.ReceivePackPOSTs != 1 {
			t.Errorf("sync %d: %d listings, %d fetches, %d pushes; want %d, 1, 1", i+1, got, st.UploadPackPOSTs, st.ReceivePackPOSTs, wantListings)
		}
		b.assertInSync(t)
	}
	caps := capsFile(t, opts.CacheDir)
	for _, secret := range []string{srcToken, dstToken} {
		if strings.Contains(caps, secret) {
			t.Errorf("capability cache holds a token: %s", caps)
		}
	}
}

// Remembered capabilities that no longer hold cost an attempt, not the
// sync: they are forgotten, and the next attempt asks the servers.
func TestTwoWayStaleCapabilities(t *testing.T) {
	for name, stale := range map[string]string{
		"upload-pack without side band": `{"target git-upload-pack": {"caps": "ofs-delta agent=old", "seen": "%s"}}`,
		"receive-pack without reports":  `{"source git-receive-pack": {"caps": "ofs-delta agent=old", "seen": "%s"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			b, opts := twoWay(t)
			w := b.work
			w.Commit("base", map[string]string{"a.txt": "1"})
			b.pushSource(t, "main")
			b.sync(t, opts)
			w.Commit("on the target", map[string]string{"t.txt": "t"})
			b.pushTarget(t, "main")
			b.sync(t, opts) // remembers the capabilities
			path := capsPath(t, opts.CacheDir)
			if err := os.WriteFile(path, []byte(strings.ReplaceAll(stale, "%s", time.Now().UTC().Format(time.RFC3339))), 0o600); err != nil {
				t.Fatal(err)
			}

			w.Commit("again on the target", map[string]string{"t.txt": "u"})
			b.pushTarget(t, "main")
			res := b.sync(t, opts)
			if !res.OK() || res.Attempts != 2 {
				t.Errorf("sync with stale capabilities: OK %v after %d attempts, want OK after 2: %+v", res.OK(), res.Attempts, res.Refs)
			}
			b.assertInSync(t)
			if caps := capsFile(t, opts.CacheDir); strings.Contains(caps, "agent=old") {
				t.Errorf("stale capabilities still remembered: %s", caps)
			}
		})
	}
}

func capsPath(t *testing.T, cacheDir string) string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(cacheDir, "*", "caps.json"))
	if err != nil || len(m) != 1 {
		t.Fatalf("capability cache files: %v %v", m, err)
	}
	return m[0]
}

func capsFile(t *testing.T, cacheDir string) string {
	t.Helper()
	b, err := os.ReadFile(capsPath(t, cacheDir))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
