package forgetest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/gitee"
)

// received is one webhook delivery as a receiver saw it.
type received struct {
	path   string
	header http.Header
	body   []byte
}

// hookReceiver is a loopback server recording deliveries.
type hookReceiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []received
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.got = append(h.got, received{r.URL.Path, r.Header.Clone(), b})
		h.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) deliveries() []received {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]received(nil), h.got...)
}

func TestGiteeHooksCRUD(t *testing.T) {
	t.Parallel()
	f := apiForge(t)
	f.SetRepo("acme", "shared", RepoMeta{Private: true})
	pushMain(t, f, "acme", "shared", "alice", apiAliceToken)
	recv := newHookReceiver(t)
	ctx := context.Background()
	alice := giteeClient(t, f, apiAliceToken)

	created, err := alice.CreateHook(ctx, "acme", "shared", gitee.HookOptions{
		URL: recv.srv.URL + "/sig", EncryptionType: gitee.SignatureMode, Password: "s3cret", PushEvents: true, TagPushEvents: true})
	if err != nil {
		t.Fatal(err)
	}
	if created.ID == 0 || created.EncryptionType != gitee.SignatureMode || !created.PushEvents || !created.TagPushEvents {
		t.Errorf("created hook %+v", created)
	}
	second, err := alice.CreateHook(ctx, "acme", "shared", gitee.HookOptions{
		URL: "https://hooks.example.com/x", Password: "pw", PushEvents: true})
	if err != nil {
		t.Fatal(err)
	}
	list, err := alice.ListHooks(ctx, "acme", "shared")
	if err != nil || len(list) != 2 || list[0].ID != created.ID || list[1].URL != "https://hooks.example.com/x" {
		t.Fatalf("ListHooks = %+v, %v", list, err)
	}
	updated, err := alice.UpdateHook(ctx, "acme", "shared", second.ID, gitee.HookOptions{
		URL: recv.srv.URL + "/pw", Password: "pw2", PushEvents: true, TagPushEvents: false})
	if err != nil || updated.URL != recv.srv.URL+"/pw" || updated.Password != "pw2" {
		t.Fatalf("UpdateHook = %+v, %v", updated, err)
	}

	// A test delivery: a ping, signed.
	if err := alice.TestHook(ctx, "acme", "shared", created.ID); err != nil {
		t.Fatal(err)
	}
	got := recv.deliveries()
	if len(got) != 1 || got[0].path != "/sig" || !gitee.IsPing(got[0].header) || gitee.Event(got[0].header) != gitee.EventPush {
		t.Fatalf("test delivery: %+v", got)
	}
	if err := gitee.VerifyWebhook("s3cret", got[0].header, time.Now(), 0); err != nil {
		t.Errorf("test delivery does not verify: %v", err)
	}
	hooks := f.GiteeHooks("acme", "shared")
	if len(hooks) != 2 || hooks[0].Tests != 1 || hooks[1].Tests != 0 || hooks[0].Password != "s3cret" || hooks[0].EncryptionType != 1 {
		t.Errorf("GiteeHooks = %+v", hooks)
	}
	var raw map[string]any
	apiGet(t, f.GiteeAPIURL()+"/repos/acme/shared/hooks/"+strconv.FormatInt(created.ID, 10)+"?access_token="+apiAliceToken, "", &raw)
	if raw["result_code"] != float64(202) || raw["project_id"] == nil || raw["push_events"] != true {
		t.Errorf("hook JSON after the test delivery: %v", raw)
	}

	// Errors: carol only reads the repository; bob does not see it.
	_, err = giteeClient(t, f, apiBobToken).ListHooks(ctx, "acme", "shared")
	wantClass(t, "hooks of a private repository bob does not see", err, failure.NotFound)
	_, err = giteeClient(t, f, apiCarolToken).ListHooks(ctx, "acme", "shared")
	wantClass(t, "hooks as a reader", err, failure.Permission)
	err = alice.DeleteHook(ctx, "acme", "shared", 999)
	wantClass(t, "delete an unknown hook", err, failure.NotFound)

	if err := alice.DeleteHook(ctx, "acme", "shared", created.ID); err != nil {
		t.Fatal(err)
	}
	if hooks := f.GiteeHooks("acme", "shared"); len(hooks) != 1 || hooks[0].ID != second.ID {
		t.Errorf("after delete: %+v", hooks)
	}
}

func TestDeliverGiteePush(t *testing.T) {
	t.Parallel()
	f := apiForge(t)
	f.SetRepo("acme", "app", RepoMeta{Private: true})
	recv := newHookReceiver(t)
	ctx := context.Background()
	alice := giteeClient(t, f, apiAliceToken)
	for _, o := range []gitee.HookOptions{
		{URL: recv.srv.URL + "/pw", EncryptionType: gitee.PasswordMode, Password: "pass-1", PushEvents: true},
		{URL: recv.srv.URL + "/sig", EncryptionType: gitee.SignatureMode, Password: "key-2", PushEvents: true, TagPushEvents: true},
		{URL: recv.srv.URL + "/tags", Password: "key-3", TagPushEvents: true},
		{URL: "https://example.com/never", Password: "x", PushEvents: true},
	} {
		if _, err := alice.CreateHook(ctx, "acme", "app", o); err != nil {
			t.Fatal(err)
		}
	}
	w := NewWork(t)
	first := w.Commit("one", map[string]string{"a": "1"})
	second := w.Commit("two", map[string]string{"a": "2"})
	if err := w.Push(f.GitURL("acme", "app"), "alice", apiAliceToken, "HEAD:refs/heads/main"); err != nil {
		t.Fatal(err)
	}

	out := f.DeliverGiteePush("acme", "app", "refs/heads/main", first, second)
	if len(out) != 3 || out[0].Status != 202 || out[1].Status != 202 || out[2].Err == nil || out[2].Status != 0 {
		t.Fatalf("deliveries = %+v; want two delivered and the non-loopback one refused", out)
	}
	got := recv.deliveries()
	if len(got) != 2 {
		t.Fatalf("received %d deliveries, want 2", len(got))
	}
	secrets := map[string]string{"/pw": "pass-1", "/sig": "key-2"}
	for _, d := range got {
		if err := gitee.VerifyWebhook(secrets[d.path], d.header, time.Now(), 0); err != nil {
			t.Errorf("%s: %v", d.path, err)
		}
		if err := gitee.VerifyWebhook("wrong", d.header, time.Now(), 0); err == nil {
			t.Errorf("%s verifies with a wrong secret", d.path)
		}
		if gitee.Event(d.header) != gitee.EventPush || gitee.IsPing(d.header) || d.header.Get("User-Agent") != "git-oschina-hook" {
			t.Errorf("%s: headers %v", d.path, d.header)
		}
		ev, err := gitee.ParsePushHook(d.body)
		if err != nil {
			t.Fatalf("%s: %v", d.path, err)
		}
		if ev.Ref != "refs/heads/main" || ev.Before != first || ev.After != second || ev.Created || ev.Deleted ||
			ev.TotalCommits != 1 || ev.FullName() != "acme/app" || !ev.Repository.Private ||
			ev.Repository.CloneURL != f.GitURL("acme", "app") || ev.Repository.DefaultBranch != "main" || ev.HookName != "push_hooks" {
			t.Errorf("%s: parsed %+v", d.path, ev)
		}
	}
	if got[0].header.Get(gitee.HeaderToken) != "pass-1" || got[1].header.Get(gitee.HeaderToken) == "key-2" {
		t.Errorf("tokens: password mode %q, signature mode %q", got[0].header.Get(gitee.HeaderToken), got[1].header.Get(gitee.HeaderToken))
	}

	// A new tag goes to the tag hooks as "Tag Push Hook".
	out = f.DeliverGiteePush("acme", "app", "refs/tags/v1", "", second)
	if len(out) != 2 || out[0].Event != gitee.EventTagPush {
		t.Fatalf("tag deliveries = %+v", out)
	}
	got = recv.deliveries()[2:]
	ev, err := gitee.ParsePushHook(got[0].body)
	if err != nil || !ev.Created || ev.HookName != "tag_push_hooks" || gitee.Event(got[0].header) != gitee.EventTagPush {
		t.Errorf("tag delivery: %+v, %v", ev, err)
	}
}
