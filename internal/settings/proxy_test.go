package settings

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// forwardedTransport adds headers a TLS-terminating proxy in front of the
// App would add.
type forwardedTransport struct {
	base http.RoundTripper
	h    map[string]string
}

func (f forwardedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range f.h {
		r.Header.Set(k, v)
	}
	return f.base.RoundTrip(r)
}

// Behind a TLS proxy without a public URL, the pages register a pull
// mirror's Gitee webhook with https, as the proxy told the App the request
// came (config.BaseURL, the one base URL of the App).
func TestPullMirrorWebhookBehindTLSProxy(t *testing.T) {
	t.Parallel()
	tb := setup(t, true)
	b := tb.browser(t)
	b.signIn("alice")
	tb.cfg.PublicURL = "" // only read per request from here on
	base := b.c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	b.c.Transport = forwardedTransport{base: base, h: map[string]string{"X-Forwarded-Proto": "https"}}
	b.post(fmt.Sprintf("%s/installations/%d/gitee", Prefix, aliceInst), url.Values{"token": {giteeToken}})
	repoPath := fmt.Sprintf("%s/installations/%d/repos/%d", Prefix, aliceInst, tb.aliceRepoID)
	code, body := b.post(repoPath+"/mirrors", url.Values{
		"gitee_owner": {"gitee-alice"}, "gitee_name": {"proj"}, "direction": {"pull"}})
	if code != http.StatusOK || !strings.Contains(body, "Gitee webhook registered") {
		t.Fatalf("create pull mirror: %d\n%s", code, body)
	}
	hooks := tb.forge.GiteeHooks("gitee-alice", "proj")
	ms, _ := tb.store.ListMirrors(context.Background(), store.MirrorFilter{})
	if len(hooks) != 1 || len(ms) != 1 {
		t.Fatalf("hooks = %+v, mirrors = %d", hooks, len(ms))
	}
	host := strings.TrimPrefix(tb.srv.URL, "http://")
	if want := "https://" + host + "/webhooks/gitee/" + ms[0].HookID; hooks[0].URL != want {
		t.Errorf("registered hook URL = %q, want %q", hooks[0].URL, want)
	}
}
