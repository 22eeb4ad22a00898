package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

func TestSourceEmpty(t *testing.T) {
	t.Parallel()
	const zero = "0000000000000000000000000000000000000000"
	head := pkt("# service=git-upload-pack\n") + "0000"
	tests := map[string]struct {
		status int
		body   string
		empty  bool
		class  failure.Class
	}{
		"no refs (git before 2.41)":   {status: 200, body: head + "0000", empty: true},
		"no refs (git 2.41 and on)":   {status: 200, body: head + pkt(zero+" capabilities^{}\x00multi_ack side-band-64k\n") + "0000", empty: true},
		"only a pull request ref":     {status: 200, body: head + pkt(sha1+" refs/pull/1/head\x00multi_ack\n") + "0000", empty: true},
		"a branch":                    {status: 200, body: head + pkt(sha1+" HEAD\x00multi_ack symref=HEAD:refs/heads/main\n") + pkt(sha1+" refs/heads/main\n") + "0000"},
		"a tag only":                  {status: 200, body: head + pkt(sha1+" refs/tags/v1\x00multi_ack\n") + "0000"},
		"token refused":               {status: 401, class: failure.Auth},
		"no access":                   {status: 403, class: failure.Permission},
		"no such repository":          {status: 404, class: failure.NotFound},
		"slow down":                   {status: 429, class: failure.RateLimited},
		"server error":                {status: 502, class: failure.Network},
		"garbage instead of refs":     {status: 200, body: "<html>sign in</html>", class: failure.Network},
		"advertisement cut off early": {status: 200, body: head + "00", class: failure.Network},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if got, want := r.URL.Path+"?"+r.URL.RawQuery, "/o/r.git/info/refs?service=git-upload-pack"; got != want {
					t.Errorf("request %s, want %s", got, want)
				}
				if u, p, ok := r.BasicAuth(); !ok || u != "login" || p != "tok" {
					t.Errorf("basic auth %q %q %v", u, p, ok)
				}
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			}))
			defer srv.Close()
			empty, err := sourceEmpty(t.Context(), mirror.DefaultHTTPClient(), srv.URL+"/o/r.git", forge.Credentials{Username: "login", Token: "tok"})
			if tt.class != "" {
				if got := failure.ClassOf(err); got != tt.class {
					t.Fatalf("error %v (class %s), want class %s", err, got, tt.class)
				}
				if strings.Contains(err.Error(), srv.URL) {
					t.Errorf("error %q quotes the URL", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if empty != tt.empty {
				t.Errorf("empty = %v, want %v", empty, tt.empty)
			}
		})
	}
}
