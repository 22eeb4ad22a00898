package gitee

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
)

// FuzzVerifyWebhook: a Gitee delivery passes only with the password itself,
// or with the signature of a timestamp inside the window (plain or
// URL-encoded), whatever the headers hold.
func FuzzVerifyWebhook(f *testing.F) {
	now := time.UnixMilli(1_767_225_600_000)
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	f.Add("s3cret", "s3cret", "")
	f.Add("s3cret", SignWebhook("s3cret", ts), ts)
	f.Add("s3cret", url.QueryEscape(SignWebhook("s3cret", ts)), ts)
	f.Add("s3cret", SignWebhook("s3cret", "1"), "1")
	f.Add("s3cret", "%zz", ts)
	f.Add("", "", "")
	f.Add("s", "S", " 99999999999999999999 ")
	f.Fuzz(func(t *testing.T, secret, token, timestamp string) {
		h := http.Header{}
		h.Set(HeaderToken, token)
		h.Set(HeaderTimestamp, timestamp)
		err := VerifyWebhook(secret, h, now, time.Minute)
		if err != nil {
			if c := failure.ClassOf(err); c != failure.Auth && c != failure.Invalid {
				t.Fatalf("class %q: %v", c, err)
			}
			return
		}
		tok, stamp := h.Get(HeaderToken), h.Get(HeaderTimestamp)
		if secret == "" || tok == "" {
			t.Fatal("accepted without a secret or a token")
		}
		if tok == secret {
			return
		}
		ms, perr := strconv.ParseInt(stamp, 10, 64)
		if d := now.Sub(time.UnixMilli(ms)); perr != nil || d > time.Minute || d < -time.Minute {
			t.Fatalf("accepted with timestamp %q outside the window", stamp)
		}
		want := SignWebhook(secret, stamp)
		if dec, _ := url.PathUnescape(tok); tok != want && dec != want {
			t.Fatalf("token %q accepted; the signature is %q", tok, want)
		}
	})
}

// FuzzParsePushHook: the unsigned body of a Gitee push delivery parses or is
// refused as invalid; what parses names a ref and a repository.
func FuzzParsePushHook(f *testing.F) {
	f.Add([]byte(`{"ref":"refs/heads/main","before":"0000000000000000000000000000000000000000","after":"1111111111111111111111111111111111111111","created":true,"total_commits_count":"3","hook_id":7,"repository":{"full_name":"o/r","path_with_namespace":"o/r","private":"false"},"sender":{"login":"a"}}`))
	f.Add([]byte(`{"ref":"refs/tags/v1","deleted":1,"repository":{"path_with_namespace":"o/r"}}`))
	f.Add([]byte(`{"ref":"x","repository":null}`))
	f.Add([]byte(`{"total_commits_count":1e999}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParsePushHook(body)
		if err != nil {
			if c := failure.ClassOf(err); c != failure.Invalid {
				t.Fatalf("class %q: %v", c, err)
			}
			return
		}
		if ev.Ref == "" || (ev.Repository.FullName == "" && ev.Repository.PathWithNamespace == "") {
			t.Fatalf("accepted %+v", ev)
		}
	})
}
