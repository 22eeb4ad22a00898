package jobs

import (
	"cmp"
	"context"
	"maps"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// tokenKey names a repository of an installation (by id when known, else
// by full name) and what a token for it may do.
type tokenKey struct {
	installationID, repoID int64
	name                   string
	scope                  forge.TokenScope
}

func keyOf(m *store.Mirror, scope forge.TokenScope) tokenKey {
	if m.GitHubRepoID > 0 {
		return tokenKey{installationID: m.InstallationID, repoID: m.GitHubRepoID, scope: scope}
	}
	return tokenKey{installationID: m.InstallationID, name: m.A.FullName(), scope: scope}
}

// keptToken is a minted GitHub token kept for the next syncs of its
// repository.
type keptToken struct {
	token   string
	expires time.Time
}

// repoToken returns a GitHub token for m's repository alone with scope's
// permissions alone and at least minTokenLife left: the one minted for an earlier sync while it has that
// much life (cached is then true), else a new one. A token lives an hour,
// so a repository pushed to all day mints about one an hour instead of one
// per push: one API call and an App JWT less per sync, and GitHub's rate
// limit spared.
func (r *DefaultRunner) repoToken(ctx context.Context, m *store.Mirror, scope forge.TokenScope) (token string, cached bool, err error) {
	key := keyOf(m, scope)
	r.mu.Lock()
	t, ok := r.tokens[key]
	r.mu.Unlock()
	if ok && t.expires.Sub(r.now()) >= minTokenLife {
		return t.token, true, nil
	}
	for attempt := 0; attempt < 2; attempt++ {
		token, expires, err := r.mint(ctx, m, scope)
		if err != nil {
			return "", false, err
		}
		if expires.IsZero() {
			return token, false, nil // no expiry known: not kept
		}
		if expires.Sub(r.now()) >= minTokenLife {
			r.keepToken(key, keptToken{token: token, expires: expires})
			return token, false, nil
		}
	}
	return "", false, failure.New(failure.Internal, "GitHub minted a token for %s with less than %s to live: check the server's clock",
		m.A.FullName(), minTokenLife)
}

// keepToken stores a token and drops those too old to be used again.
func (r *DefaultRunner) keepToken(key tokenKey, t keptToken) {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tokens == nil {
		r.tokens = map[tokenKey]keptToken{}
	}
	maps.DeleteFunc(r.tokens, func(_ tokenKey, t keptToken) bool { return t.expires.Sub(now) < minTokenLife })
	r.tokens[key] = t
}

// forgetToken drops m's repository's tokens of every scope: GitHub refused
// one (revoked, the installation suspended, permissions changed since it
// was minted).
func (r *DefaultRunner) forgetToken(m *store.Mirror) {
	r.mu.Lock()
	defer r.mu.Unlock()
	repo := keyOf(m, forge.TokenScope{})
	maps.DeleteFunc(r.tokens, func(k tokenKey, _ keptToken) bool {
		k.scope = forge.TokenScope{}
		return k == repo
	})
}

// repoSite is m's side A reached with a token for its repository alone
// and scope's permissions alone (cached says the token was kept from an
// earlier call): every call the App makes on side A goes through such a
// site, never through the installation's own token, which would reach
// every repository with every permission of the installation.
func (r *DefaultRunner) repoSite(ctx context.Context, m *store.Mirror, scope forge.TokenScope) (f forge.Forge, cached bool, err error) {
	token, cached, err := r.repoToken(ctx, m, scope)
	if err != nil {
		return nil, false, err
	}
	f, err = r.cfg.Sites.Open(cmp.Or(m.A.Site, forge.GitHub), forge.Credentials{Token: token})
	if err != nil {
		return nil, false, err
	}
	return f, cached, nil
}

// refusedToken reports whether err may mean a kept token is no longer
// good, so that a sync with a new one may succeed.
func refusedToken(err error) bool {
	switch failure.ClassOf(err) {
	case failure.Auth, failure.Permission:
		return true
	}
	return false
}
