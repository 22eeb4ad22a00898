package jobs

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// fakeSite is a test double of forge.Forge with the capabilities the App
// uses: its API is in memory, its Git URLs point at the test forge's real
// Git server, so a whole sync runs through it.
type fakeSite struct {
	name  string
	gitOf func(owner, name string) string
	creds forge.Credentials
	login string

	mu     sync.Mutex
	repos  map[string]*forge.Repo
	checks []forge.CheckRun
	scopes []forge.TokenScope
	hooks  map[int64]string // id → URL
	token  string           // what RepoToken hands out
}

var (
	_ forge.Forge      = (*fakeSite)(nil)
	_ forge.Checks     = (*fakeSite)(nil)
	_ forge.RepoTokens = (*fakeSite)(nil)
	_ forge.Hooks      = (*fakeSite)(nil)
	_ forge.Account    = (*fakeSite)(nil)
	_ Sites            = (*fakeSites)(nil)
)

func (f *fakeSite) Name() string { return f.name }

func (f *fakeSite) GetRepo(_ context.Context, owner, name string) (*forge.Repo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.repos[owner+"/"+name]; ok {
		return r, nil
	}
	return nil, failure.New(failure.NotFound, "%s/%s not found", owner, name)
}

func (f *fakeSite) ListRepos(context.Context, string, forge.AccountKind) ([]*forge.Repo, error) {
	return nil, failure.New(failure.Internal, "not used")
}

func (f *fakeSite) CreateRepo(_ context.Context, o forge.CreateOptions) (*forge.Repo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := &forge.Repo{Owner: o.Owner, Name: o.Name, Description: o.Description, Private: o.Visibility == forge.Private}
	f.repos[o.Owner+"/"+o.Name] = r
	return r, nil
}

func (f *fakeSite) UpdateRepo(_ context.Context, owner, name string, u forge.RepoUpdate) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.repos[owner+"/"+name]; ok && u.DefaultBranch != "" {
		r.DefaultBranch = u.DefaultBranch
	}
	return nil
}

func (f *fakeSite) GitURL(owner, name string) string      { return f.gitOf(owner, name) }
func (f *fakeSite) GitCredentials() forge.Credentials     { return f.creds }
func (f *fakeSite) Login(context.Context) (string, error) { return f.login, nil }

func (f *fakeSite) CreateCheckRun(_ context.Context, _, _, _ string, cr forge.CheckRun) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checks = append(f.checks, cr)
	return int64(len(f.checks)), nil
}

func (f *fakeSite) RepoToken(_ context.Context, _ forge.RepoRef, scope forge.TokenScope) (string, time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scopes = append(f.scopes, scope)
	return f.token, time.Now().Add(time.Hour), nil
}

func (f *fakeSite) PutPushHook(_ context.Context, _, _ string, _ int64, url, _ string) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := int64(len(f.hooks) + 1)
	f.hooks[id] = url
	return id, nil
}

func (f *fakeSite) DeleteHook(_ context.Context, _, _ string, id int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.hooks, id)
	return nil
}

func (f *fakeSite) TestHook(context.Context, string, string, int64) error { return nil }

// fakeSites hands out the two doubles.
type fakeSites struct{ github, gitee *fakeSite }

func (s *fakeSites) Installation(int64) (forge.Forge, error) { return s.github, nil }

func (s *fakeSites) Open(site forge.Site, c forge.Credentials) (forge.Forge, error) {
	switch {
	case site == forge.Gitee && c.Token == giteeToken:
		return s.gitee, nil
	case site == forge.GitHub && c.Token == s.github.token:
		return s.github, nil // reached with a token RepoToken minted
	}
	return nil, failure.New(failure.Auth, "unexpected site %s or token", site)
}

// A test double of forge.Forge on each side drives a whole sync through
// the Runner: the target is created, the refs are copied over real Git,
// the check run is reported through forge.Checks, and each token is asked
// for with the scope of its calls only: push, then check runs.
func TestDefaultRunner_ForgeDoubles(t *testing.T) {
	t.Parallel()
	b := setupRunner(t)
	ctx := context.Background()
	sha := b.push(t, "main", map[string]string{"README": "hello"})
	gh := &fakeSite{name: "github", gitOf: b.f.GitURL, creds: forge.Credentials{Username: devLogin, Token: devToken}, token: devToken,
		repos: map[string]*forge.Repo{ghOwner + "/" + ghName: {Owner: ghOwner, Name: ghName, DefaultBranch: "main", Private: true}}, hooks: map[int64]string{}}
	gt := &fakeSite{name: "gitee", gitOf: b.f.GitURL, creds: forge.Credentials{Username: giteeLogin, Token: giteeToken}, login: giteeLogin,
		repos: map[string]*forge.Repo{}, hooks: map[int64]string{}}
	r, err := NewRunner(RunnerConfig{Store: b.st, Sites: &fakeSites{github: gh, gitee: gt}, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	// The Git server needs the Gitee repository; the double's API only
	// learns of it when the Runner creates it.
	b.f.CreateRepo(giteeOrg, "doubled")
	m := b.mirror(t, "doubled", store.AToB)

	res, err := r.Sync(ctx, m)
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if got := b.f.Refs(giteeOrg, "doubled")["refs/heads/main"]; got != sha {
		t.Errorf("target main = %q, want %q", got, sha)
	}
	if len(res.Changed()) != 1 {
		t.Errorf("changed refs: %+v", res.Refs)
	}
	if repo, err := gt.GetRepo(ctx, giteeOrg, "doubled"); err != nil || !repo.Private || repo.DefaultBranch != "main" {
		t.Errorf("target repository = %+v, %v; want created private with default branch main", repo, err)
	}
	if len(gh.checks) != 1 || gh.checks[0].Conclusion != forge.ConclusionSuccess {
		t.Errorf("check runs = %+v, want one success", gh.checks)
	}
	if want := []forge.TokenScope{forge.ScopePush, forge.ScopeChecks}; !slices.Equal(gh.scopes, want) {
		t.Errorf("token scopes asked = %+v, want %+v", gh.scopes, want)
	}
	if len(gt.checks) != 0 {
		t.Errorf("the target got check runs: %+v", gt.checks)
	}
}
