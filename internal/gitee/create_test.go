package gitee

import (
	"context"
	"net/http"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
)

func TestCreateRepo(t *testing.T) {
	t.Parallel()
	me := reply(http.StatusOK, map[string]any{"login": "alice"})
	tests := map[string]struct {
		opts       forge.CreateOptions
		routes     map[string]http.HandlerFunc
		post       string            // the create route
		wantForm   map[string]string // fields that must be sent
		wantAbsent []string          // fields that must not be sent
		wantRepo   string
		wantClass  failure.Class
	}{
		"own account, private by default": {
			opts:       forge.CreateOptions{OwnerKind: forge.User, Name: "proj"},
			routes:     map[string]http.HandlerFunc{"GET /user": me, "POST /user/repos": reply(201, repoJSON("alice", "proj"))},
			post:       "POST /user/repos",
			wantForm:   map[string]string{"name": "proj", "path": "proj", "private": "true", "auto_init": "false"},
			wantAbsent: []string{"public", "description", "homepage"},
			wantRepo:   "alice/proj",
		},
		"own account public with details": {
			opts: forge.CreateOptions{OwnerKind: forge.User, Owner: "alice", Name: "proj", Visibility: forge.Public,
				Description: "mirror of x", Homepage: "https://x.example"},
			routes:   map[string]http.HandlerFunc{"GET /user": me, "POST /user/repos": reply(201, repoJSON("alice", "proj"))},
			post:     "POST /user/repos",
			wantForm: map[string]string{"private": "false", "description": "mirror of x", "homepage": "https://x.example", "auto_init": "false"},
			wantRepo: "alice/proj",
		},
		"kind detected as own account": {
			opts:     forge.CreateOptions{Owner: "ALICE", Name: "proj"},
			routes:   map[string]http.HandlerFunc{"GET /user": me, "POST /user/repos": reply(201, repoJSON("alice", "proj"))},
			post:     "POST /user/repos",
			wantForm: map[string]string{"private": "true"},
			wantRepo: "alice/proj",
		},
		"organisation internal": {
			opts:       forge.CreateOptions{OwnerKind: forge.Org, Owner: "acme", Name: "proj", Visibility: forge.Internal},
			routes:     map[string]http.HandlerFunc{"POST /orgs/acme/repos": reply(201, repoJSON("acme", "proj"))},
			post:       "POST /orgs/acme/repos",
			wantForm:   map[string]string{"name": "proj", "public": "2", "auto_init": "false"},
			wantAbsent: []string{"private"},
			wantRepo:   "acme/proj",
		},
		"organisation detected, public": {
			opts: forge.CreateOptions{Owner: "acme", Name: "proj", Visibility: forge.Public},
			routes: map[string]http.HandlerFunc{
				"GET /user":             me,
				"GET /orgs/acme":        reply(200, map[string]any{"login": "acme"}),
				"POST /orgs/acme/repos": reply(201, repoJSON("acme", "proj")),
			},
			post:     "POST /orgs/acme/repos",
			wantForm: map[string]string{"public": "1"},
			wantRepo: "acme/proj",
		},
		"enterprise public": {
			opts:       forge.CreateOptions{OwnerKind: forge.Enterprise, Owner: "corp", Name: "proj", Visibility: forge.Public},
			routes:     map[string]http.HandlerFunc{"POST /enterprises/corp/repos": reply(201, repoJSON("corp", "proj"))},
			post:       "POST /enterprises/corp/repos",
			wantForm:   map[string]string{"private": "1", "auto_init": "false"},
			wantAbsent: []string{"public"},
			wantRepo:   "corp/proj",
		},
		"empty answer falls back to the request": {
			opts:     forge.CreateOptions{OwnerKind: forge.Org, Owner: "acme", Name: "proj"},
			routes:   map[string]http.HandlerFunc{"POST /orgs/acme/repos": reply(201, nil)},
			post:     "POST /orgs/acme/repos",
			wantForm: map[string]string{"public": "0"},
			wantRepo: "acme/proj",
		},
		"name already taken": {
			opts:      forge.CreateOptions{OwnerKind: forge.Org, Owner: "acme", Name: "proj"},
			routes:    map[string]http.HandlerFunc{"POST /orgs/acme/repos": reply(422, msg("仓库名称已存在"))},
			post:      "POST /orgs/acme/repos",
			wantClass: failure.Invalid,
		},
		"personal repository for another user": {
			opts:      forge.CreateOptions{OwnerKind: forge.User, Owner: "bob", Name: "proj"},
			routes:    map[string]http.HandlerFunc{"GET /user": me},
			wantClass: failure.Invalid,
		},
		"detected other user": {
			opts: forge.CreateOptions{Owner: "bob", Name: "proj"},
			routes: map[string]http.HandlerFunc{
				"GET /user":      me,
				"GET /orgs/bob":  reply(404, msg("Not Found")),
				"GET /users/bob": reply(200, map[string]any{"login": "bob"}),
			},
			wantClass: failure.Invalid,
		},
		"internal in a personal account": {
			opts:      forge.CreateOptions{OwnerKind: forge.User, Name: "proj", Visibility: forge.Internal},
			routes:    map[string]http.HandlerFunc{"GET /user": me},
			wantClass: failure.Invalid,
		},
		"unknown visibility": {
			opts:      forge.CreateOptions{OwnerKind: forge.Org, Owner: "acme", Name: "proj", Visibility: "secret"},
			wantClass: failure.Invalid,
		},
		"bad name": {
			opts:      forge.CreateOptions{OwnerKind: forge.Org, Owner: "acme", Name: "a/b"},
			wantClass: failure.Invalid,
		},
		"org without owner": {
			opts:      forge.CreateOptions{OwnerKind: forge.Org, Name: "proj"},
			wantClass: failure.Invalid,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			for r, h := range tc.routes {
				f.handle(r, h)
			}
			repo, err := f.client(t).CreateRepo(context.Background(), tc.opts)
			checkNoSecret(t, err)
			if got, want := failure.ClassOf(err), tc.wantClass; got != want {
				t.Fatalf("class = %q, want %q (err: %v)", got, want, err)
			}
			if tc.post != "" {
				if got, want := f.hitCount(tc.post), 1; got != want {
					t.Errorf("%s made %d times, want %d", tc.post, got, want)
				}
				forms := f.formsOf(tc.post)
				for k, v := range tc.wantForm {
					if len(forms) > 0 && forms[0].Get(k) != v {
						t.Errorf("form %s = %q, want %q", k, forms[0].Get(k), v)
					}
				}
				for _, k := range tc.wantAbsent {
					if len(forms) > 0 && forms[0].Has(k) {
						t.Errorf("form has %s = %q, want it absent", k, forms[0].Get(k))
					}
				}
			}
			if err != nil {
				return
			}
			if got, want := repo.FullName(), tc.wantRepo; got != want {
				t.Errorf("repo = %q, want %q", got, want)
			}
			if got, want := repo.CloneURL, f.srv.URL+"/"+tc.wantRepo+".git"; got != want {
				t.Errorf("CloneURL = %q, want %q", got, want)
			}
		})
	}
}

func TestCreateRepoRetry(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		post      http.HandlerFunc
		get       http.HandlerFunc
		wantPosts int
		wantGets  int
		wantClass failure.Class
	}{
		"503 then created, after checking it is absent": {
			post:      sequence(reply(503, msg("busy")), reply(201, repoJSON("acme", "proj"))),
			get:       reply(404, msg("Not Found Project")),
			wantPosts: 2, wantGets: 1,
		},
		"502 but it was created: no second POST": {
			post:      reply(502, nil),
			get:       reply(200, repoJSON("acme", "proj")),
			wantPosts: 1, wantGets: 1,
		},
		"503 then already exists: it was ours": {
			post:      sequence(reply(503, nil), reply(422, msg("仓库名称已存在"))),
			get:       sequence(reply(404, msg("Not Found Project")), reply(200, repoJSON("acme", "proj"))),
			wantPosts: 2, wantGets: 2,
		},
		"check fails: give up with the POST's error": {
			post:      reply(503, nil),
			get:       reply(401, msg("bad token")),
			wantPosts: 1, wantGets: 1, wantClass: failure.Network,
		},
		"always 503: bounded attempts": {
			post:      reply(503, nil),
			get:       reply(404, msg("Not Found Project")),
			wantPosts: 3, wantGets: 2, wantClass: failure.Network,
		},
		"422 at once is not retried": {
			post:      reply(422, msg("仓库名称已存在")),
			wantPosts: 1, wantClass: failure.Invalid,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.handle("POST /orgs/acme/repos", tc.post)
			if tc.get != nil {
				f.handle("GET /repos/acme/proj", tc.get)
			}
			c := f.client(t, func(cfg *Config) { cfg.Retry.MaxAttempts = 3 })
			repo, err := c.CreateRepo(context.Background(), forge.CreateOptions{OwnerKind: forge.Org, Owner: "acme", Name: "proj"})
			checkNoSecret(t, err)
			if got, want := failure.ClassOf(err), tc.wantClass; got != want {
				t.Fatalf("class = %q, want %q (err: %v)", got, want, err)
			}
			if err == nil {
				if got, want := repo.FullName(), "acme/proj"; got != want {
					t.Errorf("repo = %q, want %q", got, want)
				}
			}
			if got, want := f.hitCount("POST /orgs/acme/repos"), tc.wantPosts; got != want {
				t.Errorf("POSTs = %d, want %d", got, want)
			}
			if got, want := f.hitCount("GET /repos/acme/proj"), tc.wantGets; got != want {
				t.Errorf("GETs = %d, want %d", got, want)
			}
		})
	}
}
