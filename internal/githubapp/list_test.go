package githubapp

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
)

// servePages answers a list endpoint with three pages of repositories
// (r1..r5 over pages of 2), with Link headers as GitHub sends them. wrap
// turns a page's JSON array into the response body.
func servePages(t *testing.T, serverURL, owner string, wantQuery values, wrap func(string) string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t.Helper()
		testMethod(t, r, "GET")
		page := 1
		if p := r.URL.Query().Get("page"); p != "" {
			page, _ = strconv.Atoi(p)
		}
		want := values{"per_page": "100"}
		for k, v := range wantQuery {
			want[k] = v
		}
		if page > 1 {
			want["page"] = strconv.Itoa(page)
		}
		testFormValues(t, r, want)

		link := func(p int, rel string) string {
			return fmt.Sprintf(`<%s%s%s?page=%d&per_page=100>; rel=%q`, serverURL, baseURLPath, r.URL.Path, p, rel)
		}
		var links []string
		if page < 3 {
			links = append(links, link(page+1, "next"), link(3, "last"))
		}
		if page > 1 {
			links = append(links, link(1, "first"), link(page-1, "prev"))
		}
		if len(links) > 0 {
			w.Header().Set("Link", strings.Join(links, ", "))
		}
		var repos []string
		for i := 2*page - 1; i <= min(2*page, 5); i++ {
			repos = append(repos, repoJSON(owner, fmt.Sprintf("r%d", i), ""))
		}
		fmt.Fprint(w, wrap("["+strings.Join(repos, ",")+"]"))
	}
}

func plain(s string) string { return s }

func names(repos []*forge.Repo) []string {
	var out []string
	for _, r := range repos {
		out = append(out, r.FullName())
	}
	return out
}

func TestListRepos(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		owner    string
		kind     forge.AccountKind
		userType string // GET /users/{owner}; "" must not be called
		self     int    // GET /user: 0 not called, 200 answers alice, else that status
		path     string
		query    values
	}{
		"org given":            {owner: "org", kind: forge.Org, path: "/orgs/org/repos", query: values{"type": "all"}},
		"org detected":         {owner: "org", userType: "Organization", path: "/orgs/org/repos", query: values{"type": "all"}},
		"own account detected": {owner: "alice", userType: "User", self: 200, path: "/user/repos", query: values{"affiliation": "owner", "visibility": "all"}},
		"own account, case":    {owner: "ALICE", kind: forge.User, self: 200, path: "/user/repos", query: values{"affiliation": "owner", "visibility": "all"}},
		"other user":           {owner: "bob", kind: forge.User, self: 200, path: "/users/bob/repos", query: values{"type": "owner"}},
		"installation token":   {owner: "bob", userType: "User", self: 403, path: "/users/bob/repos", query: values{"type": "owner"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			client, mux, serverURL := setup(t)
			mux.HandleFunc("/users/"+tt.owner, func(w http.ResponseWriter, r *http.Request) {
				if tt.userType == "" {
					t.Errorf("GET /users/%s called though the kind was given", tt.owner)
				}
				fmt.Fprintf(w, `{"login":%q,"type":%q}`, tt.owner, tt.userType)
			})
			var selfCalls atomic.Int32
			mux.HandleFunc("/user", func(w http.ResponseWriter, r *http.Request) {
				selfCalls.Add(1)
				switch tt.self {
				case 0:
					t.Errorf("GET /user called for an organisation")
				case 200:
					fmt.Fprint(w, `{"login":"alice"}`)
				default:
					errorJSON(w, tt.self, "Resource not accessible by integration")
				}
			})
			mux.HandleFunc(tt.path, servePages(t, serverURL, tt.owner, tt.query, plain))

			got, err := client.ListRepos(context.Background(), tt.owner, tt.kind)
			if err != nil {
				t.Fatalf("ListRepos: %v", err)
			}
			o := tt.owner
			if want := []string{o + "/r1", o + "/r2", o + "/r3", o + "/r4", o + "/r5"}; !reflect.DeepEqual(names(got), want) {
				t.Errorf("ListRepos = %v, want %v", names(got), want)
			}
			if got, want := got[4].CloneURL, gitURL+"/"+o+"/r5.git"; got != want {
				t.Errorf("CloneURL = %q, want %q", got, want)
			}

			// The token's user is asked once and remembered.
			if _, err := client.ListRepos(context.Background(), tt.owner, tt.kind); err != nil {
				t.Fatalf("second ListRepos: %v", err)
			}
			if got := selfCalls.Load(); got > 1 {
				t.Errorf("GET /user called %d times, want at most once", got)
			}
		})
	}
}

func TestListInstallationRepos(t *testing.T) {
	t.Parallel()
	client, mux, serverURL := setup(t)
	mux.HandleFunc("/installation/repositories", servePages(t, serverURL, "o", nil, func(repos string) string {
		return `{"total_count":5,"repositories":` + repos + `}`
	}))
	got, err := client.ListInstallationRepos(context.Background())
	if err != nil {
		t.Fatalf("ListInstallationRepos: %v", err)
	}
	if want := []string{"o/r1", "o/r2", "o/r3", "o/r4", "o/r5"}; !reflect.DeepEqual(names(got), want) {
		t.Errorf("ListInstallationRepos = %v, want %v", names(got), want)
	}
}

func TestListInstallationRepos_UserToken(t *testing.T) {
	t.Parallel()
	client, mux, _ := setup(t)
	mux.HandleFunc("/installation/repositories", func(w http.ResponseWriter, r *http.Request) {
		errorJSON(w, http.StatusForbidden, "You must authenticate with an installation access token in order to list repositories for an installation.")
	})
	_, err := client.ListInstallationRepos(context.Background())
	testError(t, err, failure.Permission, "needs a GitHub App installation token")
}

func TestListRepos_Errors(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		owner string
		kind  forge.AccountKind
		class failure.Class
		want  string
	}{
		"no such account": {owner: "ghost", class: failure.NotFound, want: "no user or organisation is called ghost"},
		"enterprise":      {owner: "o", kind: forge.Enterprise, class: failure.Invalid, want: "users and organisations"},
		"bad owner":       {owner: "a/b", kind: forge.Org, class: failure.Invalid},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			client, mux, _ := setup(t)
			mux.HandleFunc("/users/ghost", func(w http.ResponseWriter, r *http.Request) {
				errorJSON(w, http.StatusNotFound, "Not Found")
			})
			_, err := client.ListRepos(context.Background(), tt.owner, tt.kind)
			testError(t, err, tt.class, tt.want)
		})
	}
}

func TestListRepos_PageFailsAfterRetries(t *testing.T) {
	t.Parallel()
	client, mux, serverURL := setup(t)
	pages := servePages(t, serverURL, "org", values{"type": "all"}, plain)
	var page2 atomic.Int32
	mux.HandleFunc("/orgs/org/repos", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") == "2" {
			page2.Add(1)
			errorJSON(w, http.StatusServiceUnavailable, "Service Unavailable")
			return
		}
		pages(w, r)
	})
	_, err := client.ListRepos(context.Background(), "org", forge.Org)
	testError(t, err, failure.Network, "503", "list GitHub repositories of org")
	if got, want := page2.Load(), int32(1+DefaultRetries); got != want {
		t.Errorf("page 2 requested %d times, want %d", got, want)
	}
}

func TestLogin(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		status int
		class  failure.Class
	}{
		"user":               {200, ""},
		"installation token": {403, failure.Permission},
		"bad token":          {401, failure.Auth},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			client, mux, _ := setup(t)
			mux.HandleFunc("/user", func(w http.ResponseWriter, r *http.Request) {
				if tt.status != 200 {
					errorJSON(w, tt.status, "no")
					return
				}
				fmt.Fprint(w, `{"login":"alice"}`)
			})
			got, err := client.Login(context.Background())
			if tt.class != "" {
				testError(t, err, tt.class)
				return
			}
			if err != nil {
				t.Fatalf("Login: %v", err)
			}
			if want := "alice"; got != want {
				t.Errorf("Login = %q, want %q", got, want)
			}
		})
	}
}
