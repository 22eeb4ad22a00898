package webhook_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/repoconfig"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/gitee-mirror/gitee-mirror/internal/webhook"
)

func TestGitHubTestVector(t *testing.T) {
	t.Parallel()
	secret, payload := []byte("It's a Secret to Everybody"), []byte("Hello, World!")
	const want = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	if got := webhook.Sign(secret, payload); got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
	if err := webhook.VerifySignature(secret, want, payload); err != nil {
		t.Errorf("VerifySignature(test vector) = %v", err)
	}
	// Through the handler: the signature passes, and an event nobody
	// handles is acknowledged.
	b := setup(t, func(o *setupOptions) { o.secret = string(secret) })
	rec := b.githubRaw(t, "ping", "vector-1", payload, want)
	wantCode(t, rec, http.StatusAccepted)
}

func TestGitHubBadSignature(t *testing.T) {
	t.Parallel()
	body := toJSON(t, pushPayload("refs/heads/feature", "main"))
	tests := map[string]struct {
		secret string // configured
		sig    string
	}{
		"missing":        {testSecret, ""},
		"wrong secret":   {testSecret, webhook.Sign([]byte("other"), body)},
		"sha1 prefix":    {testSecret, "sha1=" + strings.TrimPrefix(webhook.Sign([]byte(testSecret), body), "sha256=")},
		"not hex":        {testSecret, "sha256=zz"},
		"truncated":      {testSecret, webhook.Sign([]byte(testSecret), body)[:20]},
		"other body":     {testSecret, webhook.Sign([]byte(testSecret), append(bytes.Clone(body), ' '))},
		"no secret set":  {"", webhook.Sign(nil, body)},
		"empty hmac key": {"", "sha256="},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, func(o *setupOptions) { o.secret = tc.secret })
			m := b.mirror(t, testRepoID, "repo", store.AToB, "")
			wantCode(t, b.githubRaw(t, "push", "bad-1", body, tc.sig), http.StatusUnauthorized)
			if got := b.queue.Syncs(); len(got) != 0 {
				t.Errorf("queued %v", got)
			}
			if got := b.getMirror(t, m.ID).RequestSeq; got != 0 {
				t.Errorf("RequestSeq = %d", got)
			}
			// Nothing recorded: the same delivery id, signed, is taken.
			if b.wasAccepted(t, "bad-1") {
				t.Errorf("a refused delivery was recorded")
			}
			if got := b.counted(t, "github", "unknown", "bad-signature"); got != 1 {
				t.Errorf("bad-signature count = %v", got)
			}
		})
	}
}

func TestGitHubDuplicateDelivery(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := b.mirror(t, testRepoID, "repo", store.AToB, "")
	p := pushPayload("refs/heads/feature", "main")
	wantCode(t, b.github(t, "push", "dup-1", p), http.StatusOK)
	rec := b.github(t, "push", "dup-1", p)
	wantCode(t, rec, http.StatusOK)
	wantBody(t, rec, "duplicate")
	if got, want := b.queue.Syncs(), []syncReq{{m.ID, "push", true}}; len(got) != 1 || got[0] != want[0] {
		t.Errorf("syncs = %v, want %v", got, want)
	}
	if got := b.counted(t, "github", "push", "duplicate"); got != 1 {
		t.Errorf("duplicate count = %v", got)
	}
}

func TestGitHubBodyCap(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *setupOptions) { o.maxBytes = 1024 })
	big := append([]byte(`{"x":"`), bytes.Repeat([]byte("a"), 2000)...)
	big = append(big, `"}`...)
	wantCode(t, b.githubRaw(t, "push", "big-1", big, webhook.Sign([]byte(testSecret), big)), http.StatusRequestEntityTooLarge)

	// Without Content-Length (chunked), the reader stops at the cap.
	req := httptest.NewRequest(http.MethodPost, "/webhooks/github", struct{ *bytes.Reader }{bytes.NewReader(big)})
	req.ContentLength = -1
	req.Header.Set(webhook.HeaderGitHubEvent, "push")
	req.Header.Set(webhook.HeaderGitHubDelivery, "big-2")
	req.Header.Set(webhook.HeaderGitHubSignature, webhook.Sign([]byte(testSecret), big))
	wantCode(t, b.serveGitHub(req), http.StatusRequestEntityTooLarge)
	if got := b.counted(t, "github", "unknown", "too-large"); got != 2 {
		t.Errorf("too-large count = %v", got)
	}
}

func TestGitHubQueueUnavailable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := b.mirror(t, testRepoID, "repo", store.AToB, "")
	p := pushPayload("refs/heads/feature", "main")
	b.queue.setErr(errors.New("queue full"))
	// Accepted all the same: the inbox has it, and its work waits.
	wantCode(t, b.github(t, "push", "q-1", p), http.StatusOK)
	if b.drainErr == nil || !strings.Contains(b.drainErr.Error(), "queue full") {
		t.Errorf("Drain = %v, want the queue's error", b.drainErr)
	}
	if ds := b.pending(t); len(ds) != 1 || ds[0].ID != "q-1" || ds[0].Attempts != 1 || !strings.Contains(ds[0].LastError, "queue full") {
		t.Fatalf("inbox = %+v, want q-1 with one failed attempt", ds)
	}
	// A redelivery is a duplicate; the work is done once the queue is back.
	rec := b.github(t, "push", "q-1", p)
	wantCode(t, rec, http.StatusOK)
	wantBody(t, rec, "duplicate")
	b.queue.setErr(nil)
	if err := b.fwd.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := b.queue.Syncs(); len(got) != 1 || got[0].MirrorID != m.ID {
		t.Errorf("syncs = %v", got)
	}
	if ds := b.pending(t); len(ds) != 0 {
		t.Errorf("inbox still holds %+v", ds)
	}
}

func TestGitHubInboxUnavailable(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *setupOptions) { o.wrapInbox = func(in store.Inbox) store.Inbox { return failingInbox{in} } })
	b.mirror(t, testRepoID, "repo", store.AToB, "")
	rec := b.github(t, "push", "s-1", pushPayload("refs/heads/x", "main"))
	wantCode(t, rec, http.StatusServiceUnavailable)
	if strings.Contains(rec.Body.String(), "disk I/O") {
		t.Errorf("response leaks the internal error: %s", rec.Body)
	}
	if got := b.queue.Syncs(); len(got) != 0 {
		t.Errorf("queued %v", got)
	}
}

func TestGitHubIgnoredAndBad(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		event, delivery string
		body            []byte
		want            int
	}{
		"unknown event":    {"issues", "i-1", []byte(`{"action":"opened"}`), http.StatusAccepted},
		"ping":             {"ping", "i-2", []byte(`{"zen":"Keep it logically awesome."}`), http.StatusAccepted},
		"unknown action":   {"installation", "i-3", []byte(`{"action":"exploded","installation":{"id":42}}`), http.StatusAccepted},
		"repo edited":      {"repository", "i-4", []byte(`{"action":"edited","repository":{"id":1001,"full_name":"o/r"}}`), http.StatusAccepted},
		"no event header":  {"", "i-5", []byte(`{}`), http.StatusBadRequest},
		"no delivery":      {"push", "", []byte(`{}`), http.StatusBadRequest},
		"malformed JSON":   {"push", "i-6", []byte(`{"ref":`), http.StatusBadRequest},
		"push without ref": {"push", "i-7", []byte(`{"repository":{"id":1}}`), http.StatusBadRequest},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			wantCode(t, b.githubRaw(t, tc.event, tc.delivery, tc.body, webhook.Sign([]byte(testSecret), tc.body)), tc.want)
			if tc.delivery != "" {
				// Ignored and refused deliveries leave no trace.
				if b.wasAccepted(t, tc.delivery) {
					t.Errorf("delivery was recorded")
				}
			}
			if len(b.queue.Syncs())+len(b.queue.Configs()) != 0 {
				t.Errorf("queued work")
			}
		})
	}
}

func TestGitHubFormEncoded(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := b.mirror(t, testRepoID, "repo", store.AToB, "")
	body := []byte("payload=" + url.QueryEscape(string(toJSON(t, pushPayload("refs/heads/x", "main")))))
	req := httptest.NewRequest(http.MethodPost, "/webhooks/github", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(webhook.HeaderGitHubEvent, "push")
	req.Header.Set(webhook.HeaderGitHubDelivery, "form-1")
	req.Header.Set(webhook.HeaderGitHubSignature, webhook.Sign([]byte(testSecret), body))
	wantCode(t, b.serveGitHub(req), http.StatusOK)
	if got := b.queue.Syncs(); len(got) != 1 || got[0].MirrorID != m.ID {
		t.Errorf("syncs = %v", got)
	}
}

func TestGitHubLogContext(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.mirror(t, testRepoID, "repo", store.AToB, "")
	wantCode(t, b.github(t, "push", "log-1", pushPayload("refs/heads/x", "main")), http.StatusOK)
	logs := b.logs.String()
	for _, want := range []string{`"delivery_id":"log-1"`, `"event":"push"`, `"installation_id":42`, `"repo":"octo-org/repo"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, testSecret) {
		t.Errorf("logs contain the webhook secret")
	}
}

// recordingInbox keeps a copy of every payload the intake accepts.
type recordingInbox struct {
	store.Inbox
	mu       sync.Mutex
	payloads [][]byte
}

func (r *recordingInbox) Accept(ctx context.Context, d *store.Delivery) (bool, error) {
	r.mu.Lock()
	r.payloads = append(r.payloads, bytes.Clone(d.Payload))
	r.mu.Unlock()
	return r.Inbox.Accept(ctx, d)
}

// The inbox keeps a push's record, not GitHub's 7–8 KB payload (issue 13:
// writing, reading and rewriting the payloads was a third of Postgres's
// time), and the Forwarder does the same work from it: the sync, and the
// config read that only the dropped commit list showed was needed.
func TestGitHubInboxKeepsARecord(t *testing.T) {
	t.Parallel()
	rec := &recordingInbox{}
	b := setup(t, func(o *setupOptions) {
		o.wrapInbox = func(in store.Inbox) store.Inbox { rec.Inbox = in; return rec }
	})
	m := b.mirror(t, testRepoID, "repo", store.AToB, "")
	p := fullPushPayload("refs/heads/main", "main", 20)
	p["commits"].([]map[string]any)[7]["modified"] = []string{repoconfig.Path}
	body := toJSON(t, p)
	wantCode(t, b.githubRaw(t, "push", "rec-1", body, webhook.Sign([]byte(testSecret), body)), http.StatusOK)
	if b.drainErr != nil {
		t.Fatal(b.drainErr)
	}
	if len(rec.payloads) != 1 {
		t.Fatalf("%d payloads accepted", len(rec.payloads))
	}
	kept := rec.payloads[0]
	if len(kept) > 512 || bytes.Contains(kept, []byte("sender")) || bytes.Contains(kept, []byte(`"commits"`)) {
		t.Errorf("the inbox kept %d bytes of a %d-byte payload: %s", len(kept), len(body), kept)
	}
	if got := b.queue.Syncs(); len(got) != 1 || got[0].MirrorID != m.ID {
		t.Errorf("syncs = %v, want mirror %d", got, m.ID)
	}
	if cs := b.queue.Configs(); len(cs) != 1 {
		t.Errorf("config reads = %v, want one: the record lost that the push changed %s", cs, repoconfig.Path)
	}
}
