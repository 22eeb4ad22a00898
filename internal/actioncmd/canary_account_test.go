package actioncmd

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// TestCanaryTokensNeverLeakAccount is TestCanaryTokensNeverLeak for account
// mode: whatever the clients and the core say, no token comes out of a run.
func TestCanaryTokensNeverLeakAccount(t *testing.T) {
	t.Parallel()
	leak := func(c failure.Class) error {
		return failure.New(c, "request with %s and https://x:%s@gitee.com failed", canarySource, canaryDest)
	}
	tests := map[string]struct {
		args  []string
		setup func(b *accountBundle)
	}{
		"success": {},
		"leaky ref messages": {setup: func(b *accountBundle) {
			b.outcomes["a"] = syncOutcome{res: leakyResult()}
		}},
		"leaky sync error": {setup: func(b *accountBundle) {
			b.outcomes["b"] = syncOutcome{res: leakyResult(), err: leak(failure.Auth)}
		}},
		"leaky listing error": {setup: func(b *accountBundle) { b.src.listErr = leak(failure.Network) }},
		"leaky client error":  {setup: func(b *accountBundle) { b.srcErr = leak(failure.Auth) }},
		"leaky create error":  {setup: func(b *accountBundle) { b.dst.createErr = leak(failure.Permission) }},
		"leaky update error":  {setup: func(b *accountBundle) { b.dst.updateErr = leak(failure.Permission) }},
		"leaky lookup error": {setup: func(b *accountBundle) {
			b.dst.listErr = leak(failure.Permission)
			b.dst.getErr["mirror/b"] = leak(failure.RateLimited)
		}},
		"bad input":       {args: []string{"--mappings=" + canaryDest}},
		"token in url":    {args: []string{"--destination=https://me:" + canaryDest + "@gitee.com/o"}},
		"token as a flag": {args: []string{"--destination-token=" + canaryDest}},
		"dry run":         {args: []string{"--dry-run"}},
	}
	for name, tt := range tests {
		for _, actions := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/actions=%v", name, actions), func(t *testing.T) {
				t.Parallel()
				b := setupAccount(t, actions)
				b.src.creds = forge.Credentials{Username: "x-access-token", Token: canarySource}
				b.dst.creds = forge.Credentials{Username: "mirror-bot", Token: canaryDest}
				b.env["SOURCE_TOKEN"] = canarySource
				delete(b.env, "DESTINATION_TOKEN")
				b.env["INPUT_DESTINATION-TOKEN"] = canaryDest
				b.env["INPUT_GITHUB-TOKEN"] = canaryGitHub
				for _, n := range []string{"a", "b", "c"} {
					b.src.add(forge.Repo{Owner: "octo", Name: n, DefaultBranch: "main", Description: "about " + n})
				}
				b.dst.add(forge.Repo{Owner: "mirror", Name: "a"})
				if tt.setup != nil {
					tt.setup(b)
				}
				b.run(t, tt.args...)

				for _, c := range b.calls {
					if c.Source.Token != canarySource || c.Target.Token != canaryDest {
						t.Fatalf("tokens did not reach the sync: %q, %q", c.Source.Token, c.Target.Token)
					}
				}
				places, _ := b.outputPlaces(t, actions)
				checkNoCanary(t, places)
			})
		}
	}
}

// TestAccountSyncGetsNoTokenInURL: the endpoints handed to the core carry
// tokens as basic-auth fields, never inside the URL.
func TestAccountSyncGetsNoTokenInURL(t *testing.T) {
	t.Parallel()
	b := setupAccount(t, false)
	b.src.add(forge.Repo{Owner: "octo", Name: "a"})
	b.run(t)
	for _, c := range b.calls {
		for _, e := range []mirror.Endpoint{c.Source, c.Target} {
			if strings.Contains(e.URL, e.Token) || strings.Contains(e.URL, "@") {
				t.Errorf("endpoint URL %q carries credentials", e.URL)
			}
		}
	}
}
