package githubapp

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"sync/atomic"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
)

func TestClient_Basics(t *testing.T) {
	t.Parallel()
	client, _, _ := setup(t)
	if got, want := client.Name(), "github"; got != want {
		t.Errorf("Name = %q, want %q", got, want)
	}
	if got, want := client.GitURL("o", "r"), gitURL+"/o/r.git"; got != want {
		t.Errorf("GitURL = %q, want %q", got, want)
	}
	if got, want := client.GitCredentials(), (forge.Credentials{Username: "x-access-token", Token: canary}); got != want {
		t.Errorf("GitCredentials = %+v, want %+v", got, want)
	}
}

func TestGetRepo(t *testing.T) {
	t.Parallel()
	client, mux, _ := setup(t)
	mux.HandleFunc("/repos/o/r", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, "GET")
		testHeader(t, r, "Authorization", "Bearer "+canary)
		fmt.Fprint(w, repoJSON("o", "r", `"description":"d","homepage":"https://h","private":true,"fork":true,"archived":true,"size":0`))
	})

	got, err := client.GetRepo(context.Background(), "o", "r")
	if err != nil {
		t.Fatalf("GetRepo: %v", err)
	}
	want := &forge.Repo{Owner: "o", Name: "r", Description: "d", Homepage: "https://h", DefaultBranch: "main",
		Private: true, Fork: true, Archived: true, Empty: false, CloneURL: gitURL + "/o/r.git"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("GetRepo = %+v, want %+v", got, want)
	}
}

func TestGetRepo_NotFound(t *testing.T) {
	t.Parallel()
	client, mux, _ := setup(t)
	mux.HandleFunc("/repos/o/gone", func(w http.ResponseWriter, r *http.Request) {
		errorJSON(w, http.StatusNotFound, "Not Found")
	})
	_, err := client.GetRepo(context.Background(), "o", "gone")
	testError(t, err, failure.NotFound, "o/gone", "deleted or renamed, or the token cannot see it", `GitHub: "Not Found"`)
}

func TestGetRepo_BadNames(t *testing.T) {
	t.Parallel()
	client, _, _ := setup(t)
	for name, args := range map[string][2]string{
		"empty owner": {"", "r"},
		"empty name":  {"o", ""},
		"slash":       {"o", "a/b"},
		"dotdot":      {"..", "r"},
		"query":       {"o", "r?x=1"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := client.GetRepo(context.Background(), args[0], args[1])
			testError(t, err, failure.Invalid)
		})
	}
}

func TestCreateRepo_Org(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		vis         forge.Visibility
		wantPrivate any // nil: absent
		wantVis     any
	}{
		"default is private": {"", true, nil},
		"private":            {forge.Private, true, nil},
		"public":             {forge.Public, false, nil},
		"internal":           {forge.Internal, nil, "internal"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			client, mux, _ := setup(t)
			mux.HandleFunc("/orgs/org/repos", func(w http.ResponseWriter, r *http.Request) {
				testMethod(t, r, "POST")
				body := testJSONBody(t, r)
				if got, want := body["name"], "r"; got != want {
					t.Errorf("name = %v, want %v", got, want)
				}
				if got, want := body["description"], "d"; got != want {
					t.Errorf("description = %v, want %v", got, want)
				}
				if got, want := body["homepage"], "https://h"; got != want {
					t.Errorf("homepage = %v, want %v", got, want)
				}
				if got, ok := body["auto_init"]; ok && got != false {
					t.Errorf("auto_init = %v, want absent or false", got)
				}
				if got, want := body["private"], tt.wantPrivate; got != want {
					t.Errorf("private = %v, want %v", got, want)
				}
				if got, want := body["visibility"], tt.wantVis; got != want {
					t.Errorf("visibility = %v, want %v", got, want)
				}
				w.WriteHeader(http.StatusCreated)
				fmt.Fprint(w, repoJSON("org", "r", `"description":"d","private":true`))
			})

			got, err := client.CreateRepo(context.Background(), forge.CreateOptions{
				Owner: "org", OwnerKind: forge.Org, Name: "r", Description: "d", Homepage: "https://h", Visibility: tt.vis})
			if err != nil {
				t.Fatalf("CreateRepo: %v", err)
			}
			if got, want := got.FullName(), "org/r"; got != want {
				t.Errorf("FullName = %q, want %q", got, want)
			}
			if !got.Empty {
				t.Errorf("Empty = false, want true for a repository created without auto_init")
			}
			if got, want := got.CloneURL, gitURL+"/org/r.git"; got != want {
				t.Errorf("CloneURL = %q, want %q", got, want)
			}
		})
	}
}

func TestCreateRepo_DetectsOrg(t *testing.T) {
	t.Parallel()
	client, mux, _ := setup(t)
	mux.HandleFunc("/users/org", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, "GET")
		fmt.Fprint(w, `{"login":"org","type":"Organization"}`)
	})
	var created atomic.Bool
	mux.HandleFunc("/orgs/org/repos", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, "POST")
		created.Store(true)
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, repoJSON("org", "r", ""))
	})
	if _, err := client.CreateRepo(context.Background(), forge.CreateOptions{Owner: "org", Name: "r"}); err != nil {
		t.Fatalf("CreateRepo: %v", err)
	}
	if !created.Load() {
		t.Error("POST /orgs/org/repos was not called")
	}
}

func TestCreateRepo_OrgForbidden(t *testing.T) {
	t.Parallel()
	client, mux, _ := setup(t)
	mux.HandleFunc("/orgs/org/repos", func(w http.ResponseWriter, r *http.Request) {
		errorJSON(w, http.StatusForbidden, "Resource not accessible by integration")
	})
	_, err := client.CreateRepo(context.Background(), forge.CreateOptions{Owner: "org", OwnerKind: forge.Org, Name: "r"})
	testError(t, err, failure.Permission, "administration: write", "Resource not accessible by integration")
}

func TestCreateRepo_NameExists(t *testing.T) {
	t.Parallel()
	client, mux, _ := setup(t)
	mux.HandleFunc("/orgs/org/repos", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnprocessableEntity)
		fmt.Fprint(w, `{"message":"Repository creation failed.","errors":[{"resource":"Repository","code":"custom","field":"name","message":"name already exists on this account"}]}`)
	})
	_, err := client.CreateRepo(context.Background(), forge.CreateOptions{Owner: "org", OwnerKind: forge.Org, Name: "r"})
	testError(t, err, failure.Invalid, "may already exist", "name already exists on this account")
}

func TestCreateRepo_User(t *testing.T) {
	t.Parallel()
	client, mux, _ := setup(t)
	mux.HandleFunc("/user", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, "GET")
		fmt.Fprint(w, `{"login":"Alice","type":"User"}`)
	})
	mux.HandleFunc("/user/repos", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, "POST")
		body := testJSONBody(t, r)
		if got, want := body["name"], "r"; got != want {
			t.Errorf("name = %v, want %v", got, want)
		}
		if got, ok := body["auto_init"]; ok && got != false {
			t.Errorf("auto_init = %v, want absent or false", got)
		}
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, repoJSON("Alice", "r", `"private":true`))
	})
	got, err := client.CreateRepo(context.Background(), forge.CreateOptions{Owner: "alice", OwnerKind: forge.User, Name: "r"})
	if err != nil {
		t.Fatalf("CreateRepo: %v", err)
	}
	if got, want := got.FullName(), "Alice/r"; got != want {
		t.Errorf("FullName = %q, want %q", got, want)
	}
}

func TestCreateRepo_PersonalAccountRefused(t *testing.T) {
	t.Parallel()
	const wantHint = "a GitHub App installation token cannot create a repository under a personal account: create alice/r on GitHub first, or mirror into an organisation"
	tests := map[string]struct {
		userStatus int // GET /user; 200 answers alice
		postStatus int // POST /user/repos; 0: must not be called
		want       []string
	}{
		"installation token, no user":  {userStatus: 403, want: []string{wantHint}},
		"user token lacking scope 403": {userStatus: 200, postStatus: 403, want: []string{wantHint, "repo scope", "GitHub: \"Resource not accessible by personal access token\""}},
		"user token lacking scope 404": {userStatus: 200, postStatus: 404, want: []string{wantHint}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			client, mux, _ := setup(t)
			mux.HandleFunc("/user", func(w http.ResponseWriter, r *http.Request) {
				if tt.userStatus != 200 {
					errorJSON(w, tt.userStatus, "Resource not accessible by integration")
					return
				}
				fmt.Fprint(w, `{"login":"alice"}`)
			})
			mux.HandleFunc("/user/repos", func(w http.ResponseWriter, r *http.Request) {
				if tt.postStatus == 0 {
					t.Errorf("POST /user/repos called for a token without a user")
				}
				errorJSON(w, tt.postStatus, "Resource not accessible by personal access token")
			})
			_, err := client.CreateRepo(context.Background(), forge.CreateOptions{Owner: "alice", OwnerKind: forge.User, Name: "r"})
			testError(t, err, failure.Permission, tt.want...)
		})
	}
}

func TestCreateRepo_OtherPersonsAccount(t *testing.T) {
	t.Parallel()
	client, mux, _ := setup(t)
	mux.HandleFunc("/user", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"login":"alice"}`)
	})
	mux.HandleFunc("/user/repos", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("POST /user/repos would create alice/r instead of bob/r")
	})
	_, err := client.CreateRepo(context.Background(), forge.CreateOptions{Owner: "bob", OwnerKind: forge.User, Name: "r"})
	testError(t, err, failure.Permission, "belongs to alice", "create bob/r on GitHub first")
}

func TestCreateRepo_NotRetried(t *testing.T) {
	t.Parallel()
	client, mux, _ := setup(t)
	var calls atomic.Int32
	mux.HandleFunc("/orgs/org/repos", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		errorJSON(w, http.StatusBadGateway, "Bad Gateway")
	})
	_, err := client.CreateRepo(context.Background(), forge.CreateOptions{Owner: "org", OwnerKind: forge.Org, Name: "r"})
	testError(t, err, failure.Network, "502")
	if got, want := calls.Load(), int32(1); got != want {
		t.Errorf("POST calls = %d, want %d (a create is not repeated)", got, want)
	}
}

func TestCreateRepo_BadOptions(t *testing.T) {
	t.Parallel()
	client, _, _ := setup(t)
	tests := map[string]forge.CreateOptions{
		"visibility": {Owner: "o", OwnerKind: forge.Org, Name: "r", Visibility: "secret"},
		"enterprise": {Owner: "o", OwnerKind: forge.Enterprise, Name: "r"},
		"no name":    {Owner: "o", OwnerKind: forge.Org},
	}
	for name, opts := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := client.CreateRepo(context.Background(), opts)
			testError(t, err, failure.Invalid)
		})
	}
}

func TestUpdateRepo(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		update forge.RepoUpdate
		want   map[string]any // nil: no request
	}{
		"all": {forge.RepoUpdate{DefaultBranch: "dev", Description: "d", Homepage: "https://h"},
			map[string]any{"default_branch": "dev", "description": "d", "homepage": "https://h"}},
		"default branch only": {forge.RepoUpdate{DefaultBranch: "dev"}, map[string]any{"default_branch": "dev"}},
		"nothing":             {forge.RepoUpdate{}, nil},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			client, mux, _ := setup(t)
			var called atomic.Bool
			mux.HandleFunc("/repos/o/r", func(w http.ResponseWriter, r *http.Request) {
				called.Store(true)
				testMethod(t, r, "PATCH")
				if got := testJSONBody(t, r); !reflect.DeepEqual(got, tt.want) {
					t.Errorf("body = %v, want %v", got, tt.want)
				}
				fmt.Fprint(w, repoJSON("o", "r", ""))
			})
			if err := client.UpdateRepo(context.Background(), "o", "r", tt.update); err != nil {
				t.Fatalf("UpdateRepo: %v", err)
			}
			if got, want := called.Load(), tt.want != nil; got != want {
				t.Errorf("request sent = %v, want %v", got, want)
			}
		})
	}
}

func TestUpdateRepo_Errors(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		status int
		class  failure.Class
		want   string
	}{
		"forbidden":          {403, failure.Permission, "administration: write"},
		"branch not pushed":  {422, failure.Invalid, "push it, then set it"},
		"repository missing": {404, failure.NotFound, "deleted or renamed"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			client, mux, _ := setup(t)
			mux.HandleFunc("/repos/o/r", func(w http.ResponseWriter, r *http.Request) {
				errorJSON(w, tt.status, "nope")
			})
			err := client.UpdateRepo(context.Background(), "o", "r", forge.RepoUpdate{DefaultBranch: "dev"})
			testError(t, err, tt.class, tt.want, `GitHub: "nope"`)
		})
	}
}
