package settings

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestMirrorFormRules: the form applies the same rules as the settings
// file (internal/validate), and a refused form changes nothing.
func TestMirrorFormRules(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		form url.Values
		want string
	}{
		"dot-dot-git":      {url.Values{"gitee_name": {"..git"}}, `Gitee repository name &#34;..git&#34;`},
		"dot-dot-dot-git":  {url.Values{"gitee_name": {"...git"}}, "is a path, not a name"},
		"leading dash":     {url.Values{"gitee_owner": {"-org"}}, "start with a letter or digit"},
		"1 MB name":        {url.Values{"gitee_name": {strings.Repeat("n", 1<<20)}}, "191"},
		"a..b pattern":     {url.Values{"branches": {"a..b"}}, "no Git ref name holds"},
		"v 1~ tag":         {url.Values{"tags": {"v1~"}}, "no Git ref name holds"},
		"full ref":         {url.Values{"branches": {"refs/heads/main"}}, "short name"},
		"50,000 patterns":  {url.Values{"branches": {strings.Repeat("b,", 50000)}}, "50000 entries; at most 100"},
		"unbalanced glob":  {url.Values{"tags": {"v[1"}}, "not a valid glob"},
		"exclude nothing":  {url.Values{"branches": {"!"}}, "excludes nothing"},
		"clone suffix ok?": {url.Values{"gitee_name": {"proj.git"}, "branches": {"release/**"}}, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tb := setup(t, true)
			m := tb.mirror(t, aliceInst, tb.aliceRepoID, "alice", "proj")
			b := tb.browser(t)
			b.signIn("alice")
			form := url.Values{"gitee_owner": {"gitee-alice"}, "gitee_name": {"proj"}, "direction": {"push"}}
			for k, v := range tc.form {
				form[k] = v
			}
			path := fmt.Sprintf("%s/installations/%d/repos/%d/mirrors/%d/save", Prefix, aliceInst, tb.aliceRepoID, m.ID)
			code, body := b.post(path, form)
			got, err := tb.store.GetMirror(context.Background(), m.ID)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if code != http.StatusOK || got.B.Name != "proj" {
					t.Errorf("save: %d, mirror %s/%s\n%.2000s", code, got.B.Owner, got.B.Name, body)
				}
				return
			}
			if code != http.StatusUnprocessableEntity || !strings.Contains(body, tc.want) {
				t.Errorf("save: %d, want 422 with %q\n%.3000s", code, tc.want, body)
			}
			if got.B.Owner != "gitee-alice" || got.B.Name != "proj" || len(got.Branches) != 0 || len(got.Tags) != 0 {
				t.Errorf("a refused form changed the mirror: %+v", got)
			}
			if len(body) > 200_000 {
				t.Errorf("the page is %d bytes: it repeats the value", len(body))
			}
		})
	}
}
