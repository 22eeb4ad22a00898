package forgetest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// apiState is what the fake site APIs keep beside the bare repositories:
// accounts, repository settings, webhooks, installation tokens and counters.
// Lock order: apiState.mu before Forge.mu, never the other way round.
type apiState struct {
	mu       sync.Mutex
	nextID   int64                    // ids of accounts and repositories
	nextHook int64                    // ids of webhooks
	accounts map[string]*account      // by name; users are added when first seen
	repos    map[string]*repoState    // by "owner/name"
	installs map[string]*installation // by token
	failN    int
	failCode int
	stats    APIStats
	template bareTemplate  // see createBare
	apps     appState      // GitHub Apps, their installations, check runs: githubapp.go
	releases *releaseState // releases and their assets: releases.go
}

// accountKind is what an account is.
type accountKind int

const (
	userAccount accountKind = iota + 1
	orgAccount
	enterpriseAccount
)

type account struct {
	id      int64
	name    string
	kind    accountKind
	created time.Time
}

// repoState is a repository's settings. Its default branch is not kept here:
// the bare repository's HEAD is the one source of truth for it.
type repoState struct {
	id      int64
	owner   string
	name    string
	meta    RepoMeta // DefaultBranch unused
	display string   // Gitee's "name" (display name); "" means the path
	creator string   // login that created it through an API, if any
	created time.Time
	// firstPush makes the first branch pushed the default branch when HEAD
	// names a branch that does not exist, as both sites do for a repository
	// created empty through their API.
	firstPush bool
	hooks     []*giteeHook
}

// installation is a GitHub App installation token's view.
type installation struct {
	id    int64
	login string          // the token's pseudo-login for the Git server
	repos map[string]bool // "owner/name", or "owner/*" for all of owner's
	// appID is the App that minted the token; 0 for AddInstallationToken.
	appID int64
	// perms are the token's permissions; nil (AddInstallationToken) allows
	// everything, workflows included.
	perms   Permissions
	expires time.Time // zero: never
}

func newAPIState() *apiState {
	return &apiState{
		accounts: map[string]*account{},
		repos:    map[string]*repoState{},
		installs: map[string]*installation{},
		apps:     newAppState(),
	}
}

// initAPIs sets up the fake Gitee and GitHub APIs; New calls it.
func (f *Forge) initAPIs() {
	f.api = newAPIState()
	f.mux.Handle("/api/v5/", f.apiHandler(siteGitee, "/api/v5", f.giteeMux()))
	f.mux.Handle("/api/v3/", f.apiHandler(siteGitHub, "/api/v3", f.githubMux()))
	f.initWeb()      // githubweb.go
	f.initReleases() // releases.go
}

// GiteeAPIURL is the root of the fake Gitee OpenAPI v5,
// "http://127.0.0.1:PORT/api/v5", as internal/gitee's Config.BaseURL wants it.
func (f *Forge) GiteeAPIURL() string { return f.BaseURL() + "/api/v5" }

// GitHubAPIURL is the root of the fake GitHub REST API,
// "http://127.0.0.1:PORT/api/v3/" with the trailing slash go-github wants (the
// GitHub Enterprise Server layout).
func (f *Forge) GitHubAPIURL() string { return f.BaseURL() + "/api/v3/" }

// AddOrg makes name an organisation. Users granted Write on "name/*" may
// create repositories in it through the APIs; users granted Read on "name/*"
// or on one of its repositories see its private repositories. On GitHub it
// has type "Organization".
func (f *Forge) AddOrg(name string) { f.addAccount(name, orgAccount) }

// AddEnterprise makes name a Gitee enterprise: like an organisation, but
// served by Gitee's /enterprises endpoints (and unknown to the GitHub API,
// where enterprises own no repositories).
func (f *Forge) AddEnterprise(name string) { f.addAccount(name, enterpriseAccount) }

func (f *Forge) addAccount(name string, kind accountKind) {
	f.t.Helper()
	if !validName(name) {
		f.t.Fatalf("forgetest: invalid account name %q", name)
	}
	if f.hasToken(name) {
		f.t.Fatalf("forgetest: %q is already a user (it has a token)", name)
	}
	a := f.api
	a.mu.Lock()
	defer a.mu.Unlock()
	if prev, ok := a.accounts[name]; ok {
		switch prev.kind {
		case kind:
		case userAccount: // only inferred from its repositories: no token
			prev.kind = kind
		default:
			f.t.Fatalf("forgetest: account %q already exists as another kind", name)
		}
		return
	}
	a.nextID++
	a.accounts[name] = &account{id: a.nextID, name: name, kind: kind, created: time.Now().UTC()}
}

// hasToken reports whether some token belongs to login.
func (f *Forge) hasToken(login string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, l := range f.tokens {
		if l == login {
			return true
		}
	}
	return false
}

// ownsRepos reports whether some repository lives under owner.
func (f *Forge) ownsRepos(owner string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for key, ready := range f.known {
		if ready && strings.HasPrefix(key, owner+"/") {
			return true
		}
	}
	return false
}

// lookupAccount finds an account: an organisation or enterprise, else a
// user, that is a login some token belongs to (now or once) or the owner of a
// repository. A user found this way is remembered.
func (f *Forge) lookupAccount(name string) (account, bool) {
	if !validName(name) {
		return account{}, false
	}
	a := f.api
	a.mu.Lock()
	defer a.mu.Unlock()
	if acc, ok := a.accounts[name]; ok {
		return *acc, true
	}
	if !f.hasToken(name) && !f.ownsRepos(name) {
		return account{}, false
	}
	return *a.user(name), true
}

// user returns login's account, making it if needed. a.mu is held.
func (a *apiState) user(login string) *account {
	if acc, ok := a.accounts[login]; ok {
		return acc
	}
	a.nextID++
	acc := &account{id: a.nextID, name: login, kind: userAccount, created: time.Now().UTC()}
	a.accounts[login] = acc
	return acc
}

// accountByID finds an account by its id, for GitHub's id-based URLs.
func (f *Forge) accountByID(id int64) (account, bool) {
	a := f.api
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, acc := range a.accounts {
		if acc.id == id {
			return *acc, true
		}
	}
	return account{}, false
}

// AddInstallationToken makes token a GitHub App installation token of
// installation installationID, covering repos: "owner/name" entries, or
// "owner/*" for every repository of owner, present and future (an
// installation on "All repositories", which may also create repositories in
// an organisation owner). The token reads and pushes covered repositories over
// Git and the API, reads public ones, is refused GET /user like GitHub does
// ("Resource not accessible by integration"), and lists its repositories with
// GET /installation/repositories. It has every permission (workflows
// included) and never expires; RevokeToken ends it. For tokens with GitHub's
// permission checks, mint them through a registered App (RegisterApp,
// AddInstallation, POST /app/installations/{id}/access_tokens).
func (f *Forge) AddInstallationToken(token string, installationID int64, repos ...string) {
	f.t.Helper()
	if token == "" || installationID <= 0 {
		f.t.Fatalf("forgetest: AddInstallationToken needs a token and a positive installation id")
	}
	login := fmt.Sprintf("installation-%d[bot]", installationID)
	inst := &installation{id: installationID, login: login, repos: map[string]bool{}}
	for _, r := range repos {
		owner, name, ok := strings.Cut(r, "/")
		if !ok || !validName(owner) || (name != "*" && !validName(name)) {
			f.t.Fatalf("forgetest: AddInstallationToken: %q is not owner/name or owner/*", r)
		}
		inst.repos[r] = true
	}
	if err := f.addInstallToken(token, inst); err != nil {
		f.t.Fatalf("forgetest: AddInstallationToken: %v", err)
	}
	for r := range inst.repos {
		owner, name, _ := strings.Cut(r, "/")
		f.Grant(login, owner, name, Write)
	}
}

// addInstallToken registers token as an installation token. It never calls
// t.Fatal, so the token-minting handler may use it.
func (f *Forge) addInstallToken(token string, inst *installation) error {
	f.mu.Lock()
	prev, taken := f.tokens[token]
	if !taken {
		f.tokens[token] = inst.login
	}
	f.mu.Unlock()
	if taken && prev != inst.login {
		return fmt.Errorf("token already belongs to %q", prev)
	}
	f.api.mu.Lock()
	f.api.installs[token] = inst
	f.api.mu.Unlock()
	return nil
}

// installOf returns the installation token's view of token, or nil when it
// is not an installation token.
func (f *Forge) installOf(token string) *installation {
	f.api.mu.Lock()
	defer f.api.mu.Unlock()
	return f.api.installs[token]
}

// expired reports whether the installation token has run out.
func (i *installation) expired() bool {
	return !i.expires.IsZero() && time.Now().After(i.expires)
}

// gitAccess is what the token may do with owner/name over Git: nothing
// outside its repositories; push with contents write, fetch with contents
// read.
func (i *installation) gitAccess(owner, name string) Access {
	switch {
	case !i.covers(owner, name):
		return NoAccess
	case i.perms.allows("contents", "write"):
		return Write
	case i.perms.allows("contents", "read"):
		return Read
	}
	return NoAccess
}

// covers reports whether the installation covers owner/name.
func (i *installation) covers(owner, name string) bool {
	return i.repos[owner+"/"+name] || i.repos[owner+"/*"]
}

// repoKeys lists every repository as "owner/name", sorted.
func (f *Forge) repoKeys() []string {
	f.mu.Lock()
	keys := make([]string, 0, len(f.known))
	for k, ready := range f.known {
		if ready {
			keys = append(keys, k)
		}
	}
	f.mu.Unlock()
	slices.Sort(keys)
	return keys
}

// grantOf is login's own grant on key ("owner/name" or "owner/*"), without
// falling back from a repository to its owner's wildcard.
func (f *Forge) grantOf(login, key string) (Access, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.grants[login][key]
	return a, ok
}
