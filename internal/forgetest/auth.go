package forgetest

import (
	"fmt"
	"net/http"
)

// Access is what a user may do with a repository.
type Access int

// Access levels, each including the ones before it.
const (
	NoAccess Access = iota
	Read            // fetch and clone
	Write           // push
)

// AddUser makes token a valid credential for login. A login may hold several
// tokens; a token belongs to one login.
func (f *Forge) AddUser(login, token string) {
	f.t.Helper()
	if login == "" || token == "" {
		f.t.Fatalf("forgetest: AddUser needs a login and a token")
	}
	f.mu.Lock()
	prev, taken := f.tokens[token]
	if !taken {
		f.tokens[token] = login
	}
	f.mu.Unlock()
	if taken && prev != login {
		f.t.Fatalf("forgetest: AddUser(%q): token already belongs to %q", login, prev)
	}
}

// RevokeToken makes token invalid from the next request on, as when an
// installation token expires during a run.
func (f *Forge) RevokeToken(token string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.tokens, token)
}

// Grant sets login's access to owner/repo. repo "*" covers every repository
// of owner that has no grant of its own. Users have no access until granted.
func (f *Forge) Grant(login, owner, repo string, a Access) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.grants[login]
	if g == nil {
		g = map[string]Access{}
		f.grants[login] = g
	}
	g[owner+"/"+repo] = a
}

// Login returns the login that token belongs to, for fake API handlers. An
// installation token past its expiry belongs to nobody.
func (f *Forge) Login(token string) (login string, ok bool) {
	f.mu.Lock()
	login, ok = f.tokens[token]
	f.mu.Unlock()
	if ok {
		if inst := f.installOf(token); inst != nil && inst.expired() {
			return "", false
		}
	}
	return login, ok
}

// Permission is login's access to owner/repo, for fake API handlers.
func (f *Forge) Permission(login, owner, repo string) Access {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.grants[login]
	if a, ok := g[owner+"/"+repo]; ok {
		return a
	}
	return g[owner+"/*"]
}

// authorize checks a Git request the way the sites do: credentials first
// (401), then whether the repository exists (404), then permission (403).
// It writes the refusal itself and returns ok=false, or returns the login.
func (f *Forge) authorize(w http.ResponseWriter, r *http.Request, owner, repo string, need Access) (login string, ok bool) {
	user, token, hasAuth := r.BasicAuth()
	if hasAuth {
		login, ok = f.Login(token)
	}
	if ok && f.cfg.loginAsUser && user != login {
		ok = false
	}
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="forgetest"`)
		http.Error(w, "Invalid username or token.", http.StatusUnauthorized)
		return "", false
	}
	if !f.exists(owner, repo) {
		http.Error(w, "Repository not found.", http.StatusNotFound)
		return "", false
	}
	// An installation token reaches its own repositories, whatever other
	// tokens of the same installation (one pseudo-login) may reach.
	var have Access
	if inst := f.installOf(token); inst != nil {
		have = inst.gitAccess(owner, repo)
	} else {
		have = f.Permission(login, owner, repo)
	}
	if have < need {
		msg := fmt.Sprintf("Permission to %s/%s.git denied to %s.", owner, repo, login)
		http.Error(w, msg, http.StatusForbidden)
		return "", false
	}
	return login, true
}
