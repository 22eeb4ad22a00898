package gitee

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
)

func TestGetRepoMapping(t *testing.T) {
	t.Parallel()
	full := repoJSON("alice", "proj")
	tests := map[string]struct {
		body map[string]any
		want forge.Repo
	}{
		"full object": {
			body: full,
			want: forge.Repo{Owner: "alice", Name: "proj", Description: "desc of proj", Homepage: "https://example.com/proj",
				DefaultBranch: "main", Private: true, CloneURL: "/alice/proj.git"},
		},
		"full_name only": {
			body: map[string]any{"full_name": "alice/proj", "public": true},
			want: forge.Repo{Owner: "alice", Name: "proj", CloneURL: "/alice/proj.git"},
		},
		"owner login fallback": {
			body: map[string]any{"name": "Proj", "owner": map[string]any{"login": "alice"}, "private": "true"},
			want: forge.Repo{Owner: "alice", Name: "Proj", Private: true, CloneURL: "/alice/Proj.git"},
		},
		"nothing but status closed": {
			body: map[string]any{"status": "关闭", "fork": true},
			want: forge.Repo{Owner: "alice", Name: "proj", Fork: true, Archived: true, CloneURL: "/alice/proj.git"},
		},
		"archived flag": {
			body: map[string]any{"path": "proj", "namespace": map[string]any{"path": "alice"}, "archived": true},
			want: forge.Repo{Owner: "alice", Name: "proj", Archived: true, CloneURL: "/alice/proj.git"},
		},
		"public without private": {
			body: map[string]any{"path": "proj", "namespace": map[string]any{"path": "alice"}, "public": false},
			want: forge.Repo{Owner: "alice", Name: "proj", Private: true, CloneURL: "/alice/proj.git"},
		},
		"null description": {
			body: map[string]any{"path": "proj", "namespace": map[string]any{"path": "alice"}, "description": nil, "private": 0},
			want: forge.Repo{Owner: "alice", Name: "proj", CloneURL: "/alice/proj.git"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.handle("GET /repos/alice/proj", reply(http.StatusOK, tc.body))
			c := f.client(t, func(cfg *Config) { cfg.GitBaseURL = "https://git.test" })
			got, err := c.GetRepo(context.Background(), "alice", "proj")
			if err != nil {
				t.Fatalf("GetRepo: %v", err)
			}
			want := tc.want
			want.CloneURL = "https://git.test" + want.CloneURL
			if *got != want {
				t.Errorf("GetRepo =\n %+v\nwant\n %+v", *got, want)
			}
		})
	}
}

func TestGetRepoRejectsBadNames(t *testing.T) {
	t.Parallel()
	f := newFake(t) // any request would fail the test
	c := f.client(t)
	for _, tc := range [][2]string{{"", "r"}, {"o", ""}, {"o/x", "r"}, {"o", ".."}, {"o", "r?x=1"}} {
		_, err := c.GetRepo(context.Background(), tc[0], tc[1])
		if got, want := failure.ClassOf(err), failure.Invalid; got != want {
			t.Errorf("GetRepo(%q, %q) class = %q, want %q", tc[0], tc[1], got, want)
		}
	}
}

// pages serves n pages of repositories in owner's namespace, size per page
// except the last, which holds last; withTotal adds total_page headers.
func pages(t *testing.T, owner string, n, last int, withTotal bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if got, want := q.Get("per_page"), "100"; got != want {
			t.Errorf("per_page = %q, want %q", got, want)
		}
		page, err := strconv.Atoi(q.Get("page"))
		if err != nil || page < 1 || page > n {
			t.Errorf("page = %q, want 1..%d", q.Get("page"), n)
			http.Error(w, "bad page", http.StatusBadRequest)
			return
		}
		size := 100
		if page == n {
			size = last
		}
		var items []map[string]any
		for i := range size {
			items = append(items, repoJSON(owner, fmt.Sprintf("r%d-%d", page, i)))
		}
		if withTotal {
			w.Header().Set("total_page", strconv.Itoa(n))
			w.Header().Set("total_count", strconv.Itoa((n-1)*100+last))
		}
		reply(http.StatusOK, items)(w, r)
	}
}

func TestListReposPagination(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		n, last   int
		withTotal bool
		wantHits  int
	}{
		"three pages with total_page":             {n: 3, last: 100, withTotal: true, wantHits: 3},
		"three pages, short last, no header":      {n: 3, last: 7, withTotal: false, wantHits: 3},
		"full last page without header asks once": {n: 2, last: 100, withTotal: false, wantHits: 3},
		"empty": {n: 1, last: 0, withTotal: true, wantHits: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			serve := pages(t, "acme", tc.n, tc.last, tc.withTotal)
			f.handle("GET /orgs/acme/repos", func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Query().Get("page") == strconv.Itoa(tc.n+1) {
					reply(http.StatusOK, []any{})(w, r) // one past the end
					return
				}
				serve(w, r)
			})
			repos, err := f.client(t).ListRepos(context.Background(), "acme", forge.Org)
			if err != nil {
				t.Fatalf("ListRepos: %v", err)
			}
			if got, want := len(repos), (tc.n-1)*100+tc.last; got != want {
				t.Errorf("got %d repos, want %d", got, want)
			}
			if got, want := f.hitCount("GET /orgs/acme/repos"), tc.wantHits; got != want {
				t.Errorf("%d page requests, want %d", got, want)
			}
			if len(repos) > 0 {
				if got, want := repos[0].FullName(), "acme/r1-0"; got != want {
					t.Errorf("first repo = %q, want %q", got, want)
				}
			}
		})
	}
}

func TestListReposKinds(t *testing.T) {
	t.Parallel()
	one := func(owner string) http.HandlerFunc {
		return reply(http.StatusOK, []any{repoJSON(owner, "a"), repoJSON("someone-else", "b")})
	}
	tests := map[string]struct {
		owner     string
		kind      forge.AccountKind
		routes    map[string]http.HandlerFunc
		listRoute string
		wantQuery map[string]string
		wantNames []string
		wantClass failure.Class
	}{
		"own account": {
			owner: "Alice", kind: forge.User,
			routes:    map[string]http.HandlerFunc{"GET /user": reply(200, map[string]any{"login": "alice"}), "GET /user/repos": one("alice")},
			listRoute: "GET /user/repos", wantQuery: map[string]string{"affiliation": "owner"},
			wantNames: []string{"alice/a"},
		},
		"other user": {
			owner: "bob", kind: forge.User,
			routes:    map[string]http.HandlerFunc{"GET /user": reply(200, map[string]any{"login": "alice"}), "GET /users/bob/repos": one("bob")},
			listRoute: "GET /users/bob/repos", wantQuery: map[string]string{"type": "owner"},
			wantNames: []string{"bob/a"},
		},
		"organisation keeps every namespace": {
			owner: "acme", kind: forge.Org,
			routes:    map[string]http.HandlerFunc{"GET /orgs/acme/repos": one("acme")},
			listRoute: "GET /orgs/acme/repos", wantNames: []string{"acme/a", "someone-else/b"},
		},
		"enterprise": {
			owner: "corp", kind: forge.Enterprise,
			routes:    map[string]http.HandlerFunc{"GET /enterprises/corp/repos": one("corp")},
			listRoute: "GET /enterprises/corp/repos", wantNames: []string{"corp/a", "someone-else/b"},
		},
		"detect organisation": {
			owner: "acme",
			routes: map[string]http.HandlerFunc{
				"GET /orgs/acme":       reply(200, map[string]any{"login": "acme"}),
				"GET /orgs/acme/repos": one("acme"),
			},
			listRoute: "GET /orgs/acme/repos", wantNames: []string{"acme/a", "someone-else/b"},
		},
		"detect user": {
			owner: "bob",
			routes: map[string]http.HandlerFunc{
				"GET /orgs/bob":        reply(404, msg("Not Found")),
				"GET /users/bob":       reply(200, map[string]any{"login": "bob"}),
				"GET /user":            reply(200, map[string]any{"login": "alice"}),
				"GET /users/bob/repos": one("bob"),
			},
			listRoute: "GET /users/bob/repos", wantNames: []string{"bob/a"},
		},
		"detect nobody": {
			owner: "ghost",
			routes: map[string]http.HandlerFunc{
				"GET /orgs/ghost":  reply(404, msg("Not Found")),
				"GET /users/ghost": reply(404, msg("Not Found")),
			},
			wantClass: failure.NotFound,
		},
		"detect stops on auth": {
			owner:     "acme",
			routes:    map[string]http.HandlerFunc{"GET /orgs/acme": reply(401, msg("401 Unauthorized: Access token is expired"))},
			wantClass: failure.Auth,
		},
		"unknown kind": {owner: "acme", kind: "team", wantClass: failure.Invalid},
		"bad owner":    {owner: "a/b", kind: forge.Org, wantClass: failure.Invalid},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			for r, h := range tc.routes {
				f.handle(r, h)
			}
			repos, err := f.client(t).ListRepos(context.Background(), tc.owner, tc.kind)
			checkNoSecret(t, err)
			if got, want := failure.ClassOf(err), tc.wantClass; got != want {
				t.Fatalf("class = %q, want %q (err: %v)", got, want, err)
			}
			if err != nil {
				return
			}
			var names []string
			for _, r := range repos {
				names = append(names, r.FullName())
			}
			if got, want := fmt.Sprint(names), fmt.Sprint(tc.wantNames); got != want {
				t.Errorf("repos = %s, want %s", got, want)
			}
			qs := f.queriesOf(tc.listRoute)
			if len(qs) != 1 {
				t.Fatalf("%s made %d times, want 1", tc.listRoute, len(qs))
			}
			for k, v := range tc.wantQuery {
				if got := qs[0].Get(k); got != v {
					t.Errorf("query %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestUpdateRepo(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.handle("GET /repos/alice/proj", reply(http.StatusOK, repoJSON("alice", "proj")))
	f.handle("PATCH /repos/alice/proj", reply(http.StatusOK, repoJSON("alice", "proj")))
	c := f.client(t)
	err := c.UpdateRepo(context.Background(), "alice", "proj", forge.RepoUpdate{DefaultBranch: "develop", Description: "new"})
	if err != nil {
		t.Fatalf("UpdateRepo: %v", err)
	}
	forms := f.formsOf("PATCH /repos/alice/proj")
	if len(forms) != 1 {
		t.Fatalf("%d PATCH requests, want 1", len(forms))
	}
	want := map[string]string{"name": "PROJ", "default_branch": "develop", "description": "new"}
	for k, v := range want {
		if got := forms[0].Get(k); got != v {
			t.Errorf("form %s = %q, want %q", k, got, v)
		}
	}
	if forms[0].Has("homepage") {
		t.Errorf("homepage sent although not asked to change: %q", forms[0].Get("homepage"))
	}
	if got, want := len(forms[0]), len(want); got != want {
		t.Errorf("form has %d fields (%v), want %d", got, forms[0], want)
	}
}

func TestUpdateRepoNothingToDo(t *testing.T) {
	t.Parallel()
	f := newFake(t) // no routes: any request fails the test
	if err := f.client(t).UpdateRepo(context.Background(), "alice", "proj", forge.RepoUpdate{}); err != nil {
		t.Errorf("UpdateRepo(empty) = %v, want nil", err)
	}
}

func TestUpdateRepoMissing(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.handle("GET /repos/alice/gone", reply(http.StatusNotFound, msg("Not Found Project")))
	err := f.client(t).UpdateRepo(context.Background(), "alice", "gone", forge.RepoUpdate{Homepage: "https://x"})
	if got, want := failure.ClassOf(err), failure.NotFound; got != want {
		t.Errorf("class = %q, want %q (err: %v)", got, want, err)
	}
}

func TestVisibilityFromGiteeFlags(t *testing.T) {
	t.Parallel()
	c, err := New(Config{Token: "t", BaseURL: "https://gitee.example/api/v5"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		body        string
		wantPrivate bool
	}{
		{"public", `{"full_name":"o/r","private":false,"public":true}`, false},
		{"private", `{"full_name":"o/r","private":true,"public":false}`, true},
		{"internal counts as private", `{"full_name":"o/r","private":false,"public":false,"internal":true}`, true},
		{"only private flag", `{"full_name":"o/r","private":false}`, false},
		{"only public flag", `{"full_name":"o/r","public":false}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var a apiRepo
			if err := json.Unmarshal([]byte(tt.body), &a); err != nil {
				t.Fatal(err)
			}
			if got := c.toRepo(&a, "o", "r").Private; got != tt.wantPrivate {
				t.Errorf("Private = %v, want %v", got, tt.wantPrivate)
			}
		})
	}
}

// TestUpdateRepoAfterCreate: the first update of a repository the client
// created sends the display name Gitee gave it then, without reading the
// repository first; later updates read it again.
func TestUpdateRepoAfterCreate(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	created := repoJSON("acme", "proj")
	created["name"] = "Proj (mirror)"
	f.handle("POST /orgs/acme/repos", reply(http.StatusCreated, created))
	f.handle("GET /repos/acme/proj", reply(http.StatusOK, repoJSON("acme", "proj")))
	f.handle("PATCH /repos/acme/proj", reply(http.StatusOK, repoJSON("acme", "proj")))
	c := f.client(t)
	ctx := context.Background()
	if _, err := c.CreateRepo(ctx, forge.CreateOptions{OwnerKind: forge.Org, Owner: "acme", Name: "proj"}); err != nil {
		t.Fatalf("CreateRepo: %v", err)
	}
	if err := c.UpdateRepo(ctx, "acme", "proj", forge.RepoUpdate{DefaultBranch: "develop"}); err != nil {
		t.Fatalf("UpdateRepo: %v", err)
	}
	if n := f.hitCount("GET /repos/acme/proj"); n != 0 {
		t.Errorf("the first update after the creation read the repository %d times, want 0", n)
	}
	if err := c.UpdateRepo(ctx, "acme", "proj", forge.RepoUpdate{Description: "again"}); err != nil {
		t.Fatalf("second UpdateRepo: %v", err)
	}
	if n := f.hitCount("GET /repos/acme/proj"); n != 1 {
		t.Errorf("the second update read the repository %d times, want 1 (the name may have changed since)", n)
	}
	forms := f.formsOf("PATCH /repos/acme/proj")
	if len(forms) != 2 {
		t.Fatalf("%d PATCH requests, want 2", len(forms))
	}
	for i, want := range []string{"Proj (mirror)", "PROJ"} {
		if got := forms[i].Get("name"); got != want {
			t.Errorf("PATCH %d: name %q, want %q", i+1, got, want)
		}
	}
}
