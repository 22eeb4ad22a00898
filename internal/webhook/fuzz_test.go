package webhook

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzGitHubPayloads: every event handler parses any payload a signed
// delivery may carry without panicking, and, as EventHandler requires, as
// a pure function of it (the intake and the Forwarder must agree), and the
// record the inbox keeps instead of a payload parses to the same work.
func FuzzGitHubPayloads(f *testing.F) {
	for _, seed := range []string{
		`{"ref":"refs/heads/main","before":"1111111111111111111111111111111111111111","after":"2222222222222222222222222222222222222222","created":false,"deleted":false,"forced":false,"commits":[{"id":"2222222222222222222222222222222222222222","modified":[".github/gitee-mirror.yml"]}],"repository":{"id":1001,"name":"r","full_name":"o/r","default_branch":"main","owner":{"login":"o"}},"installation":{"id":42}}`,
		`{"ref":"refs/tags/v1","created":true,"deleted":false,"repository":{"id":1001,"full_name":"o/r"}}`,
		`{"action":"created","installation":{"id":42,"account":{"login":"o"}},"repositories":[{"id":1001,"name":"r","full_name":"o/r"}]}`,
		`{"action":"suspend","installation":{"id":42,"suspended_at":"2026-01-01T00:00:00Z"}}`,
		`{"action":"added","installation":{"id":42},"repositories_added":[{"id":7,"full_name":"o/r"}],"repositories_removed":[]}`,
		`{"action":"renamed","repository":{"id":1001,"name":"r2","full_name":"o/r2"},"changes":{"repository":{"name":{"from":"r"}}},"installation":{"id":42}}`,
		`{"action":"deleted","repository":{"id":1001,"full_name":"o/r"},"installation":{"id":42}}`,
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte("payload="+url.QueryEscape(seed)), true)
	}
	f.Add([]byte(`{"ref":`), false)
	f.Add([]byte(`{"repository":{"id":1,"full_name":"/"},"ref":"x","commits":[null]}`), false)
	f.Add([]byte("payload=%zz"), true)
	handlers := DefaultHandlers(nil, nil)
	f.Fuzz(func(t *testing.T, body []byte, form bool) {
		ct := "application/json"
		if form {
			ct = "application/x-www-form-urlencoded"
		}
		payload, err := jsonPayload(ct, body)
		if err != nil {
			return
		}
		for _, h := range handlers {
			for _, ev := range h.Events() {
				a, errA := h.Parse(ev, payload)
				b, errB := h.Parse(ev, payload)
				if (errA == nil) != (errB == nil) || (a == nil) != (b == nil) {
					t.Fatalf("%s: two parses disagree: %v / %v", ev, errA, errB)
				}
				if a == nil {
					continue
				}
				if a.Run == nil {
					t.Fatalf("%s: a task without work", ev)
				}
				if a.Action != b.Action || a.InstallationID != b.InstallationID || a.Repo != b.Repo || a.Key != b.Key {
					t.Fatalf("%s: two parses disagree: %+v / %+v", ev, a, b)
				}
				if a.Record == nil {
					continue
				}
				// The Forwarder parses the record the inbox kept.
				r, err := h.Parse(ev, a.Record)
				if err != nil || r == nil {
					t.Fatalf("%s: record %s does not parse back: %v", ev, a.Record, err)
				}
				if r.Action != a.Action || r.InstallationID != a.InstallationID || r.Repo != a.Repo || r.Key != a.Key {
					t.Fatalf("%s: the record parses to %+v, the payload to %+v", ev, r, a)
				}
			}
		}
	})
}

// FuzzVerifySignature: a delivery passes only with the HMAC of its exact
// body under the secret.
func FuzzVerifySignature(f *testing.F) {
	f.Add([]byte("s3cret"), Sign([]byte("s3cret"), []byte(`{"a":1}`)), []byte(`{"a":1}`))
	f.Add([]byte("s3cret"), "sha256=", []byte(""))
	f.Add([]byte(""), "sha256=00", []byte("x"))
	f.Add([]byte("k"), strings.ToUpper(Sign([]byte("k"), []byte("x"))), []byte("x"))
	f.Fuzz(func(t *testing.T, secret []byte, header string, body []byte) {
		if VerifySignature(secret, header, body) == nil && !strings.EqualFold(header, Sign(secret, body)) {
			t.Fatalf("signature %q accepted for body %q", header, body)
		}
		if len(secret) > 0 && VerifySignature(secret, Sign(secret, body), body) != nil {
			t.Fatal("the right signature refused")
		}
	})
}
