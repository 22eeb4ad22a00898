package actioncmd

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
)

// TestGiteeUsername: Gitee's Git username is the token owner's login from
// GET /user; the *-username input is the fallback when Gitee will not say.
func TestGiteeUsername(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		status   int // of GET /user
		body     string
		input    string // destination-username
		want     string // Git username
		warn     string
		errClass failure.Class
	}{
		"login from GET /user":           {status: 200, body: `{"id":1,"login":"alice"}`, want: "alice"},
		"login wins over the input":      {status: 200, body: `{"id":1,"login":"alice"}`, input: "bob", want: "alice", warn: "destination-username bob is ignored"},
		"input when GET /user refused":   {status: 403, body: `{"message":"403 Forbidden"}`, input: "bob", want: "bob", warn: "using destination-username bob"},
		"no input, GET /user refused":    {status: 403, body: `{"message":"403 Forbidden"}`, errClass: failure.Permission},
		"invalid token fails with input": {status: 401, body: `{"message":"401 Unauthorized: Access token does not exist"}`, input: "bob", errClass: failure.Auth},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/api/v5/user" || r.URL.Query().Get("access_token") != "tok" {
					http.Error(w, `{"message":"404 Not Found"}`, http.StatusNotFound)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			var (
				mu    sync.Mutex
				warns []string
			)
			acct := account{role: inDestination, site: siteGitee, owner: "org", token: "tok", tokenInput: inDestinationToken, username: tt.input}
			f, err := newForge(t.Context(), forgeSpec{account: acct, web: srv.URL, api: srv.URL + "/api/v5", warn: func(s string) {
				mu.Lock()
				defer mu.Unlock()
				warns = append(warns, s)
			}})
			if tt.errClass != "" {
				if got := failure.ClassOf(err); got != tt.errClass {
					t.Fatalf("error %v (class %s), want class %s", err, got, tt.errClass)
				}
				if !strings.Contains(err.Error(), "destination-token") {
					t.Errorf("error %q does not name the token input", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := credentials(f, acct); got != (forge.Credentials{Username: tt.want, Token: "tok"}) {
				t.Errorf("credentials %+v, want username %q", got, tt.want)
			}
			if got := strings.Join(warns, "\n"); !strings.Contains(got, tt.warn) || (tt.warn == "" && got != "") {
				t.Errorf("warnings %q, want %q", got, tt.warn)
			}
			if got, want := f.GitURL("org", "app"), srv.URL+"/org/app.git"; got != want {
				t.Errorf("GitURL %q, want %q (gitee-url)", got, want)
			}
		})
	}
}

func TestGitHubCredentials(t *testing.T) {
	t.Parallel()
	acct := account{role: inSource, site: siteGitHub, owner: "octo", token: "ghp", username: ""}
	f, err := newForge(t.Context(), forgeSpec{account: acct, web: "https://github.com", api: "https://api.github.com/"})
	if err != nil {
		t.Fatal(err)
	}
	if got := credentials(f, acct); got != (forge.Credentials{Username: "x-access-token", Token: "ghp"}) {
		t.Errorf("credentials %+v", got)
	}
	acct.username = "octocat"
	if got := credentials(f, acct); got.Username != "octocat" {
		t.Errorf("an explicit GitHub username is ignored: %+v", got)
	}
	anon, err := newForge(t.Context(), forgeSpec{account: account{site: siteGitHub}, web: "https://github.com", api: "https://api.github.com/"})
	if err != nil {
		t.Fatal(err)
	}
	if got := credentials(anon, account{site: siteGitHub, username: "x"}); got != (forge.Credentials{}) {
		t.Errorf("anonymous credentials %+v", got)
	}
}

// loginForge is a fake forge that knows its token's login, as Gitee's
// client does, but cannot tell users from organisations.
type loginForge struct {
	*fakeForge
	login string
}

func (l loginForge) Login(context.Context) (string, error) { return l.login, nil }

// kindForge is a fake forge that can tell, as GitHub's client can.
type kindForge struct{ *fakeForge }

func (kindForge) AccountKind(_ context.Context, owner string) (forge.AccountKind, error) {
	if owner == "octo" {
		return forge.Org, nil
	}
	return forge.User, nil
}

func TestKindCache(t *testing.T) {
	t.Parallel()
	fake := newFakeForge(t, "gitee", forge.Credentials{})
	tests := map[string]struct {
		f            forge.Forge
		owner        string
		first, after forge.AccountKind // before and after a creation with the first
	}{
		"own account":             {f: loginForge{fake, "me"}, owner: "Me", first: forge.User, after: forge.User},
		"other account learns":    {f: loginForge{fake, "me"}, owner: "corp", first: "", after: forge.Org},
		"forge that can tell":     {f: kindForge{fake}, owner: "octo", first: forge.Org, after: forge.Org},
		"forge that cannot tell":  {f: fake, owner: "corp", first: "", after: ""},
		"user on a forge telling": {f: kindForge{fake}, owner: "someone", first: forge.User, after: forge.User},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var k kindCache
			if got := k.get(t.Context(), tt.f, tt.owner); got != tt.first {
				t.Errorf("first kind %q, want %q", got, tt.first)
			}
			k.created(tt.first)
			if got := k.get(t.Context(), tt.f, tt.owner); got != tt.after {
				t.Errorf("kind after a creation %q, want %q", got, tt.after)
			}
		})
	}
}
