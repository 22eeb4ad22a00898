package jobs

import (
	"context"
	"maps"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// tokenKey names a repository of an installation: by id when known, else
// by full name.
type tokenKey struct {
	installationID, repoID int64
	name                   string
}

func keyOf(m *store.Mirror) tokenKey {
	if m.GitHubRepoID > 0 {
		return tokenKey{installationID: m.InstallationID, repoID: m.GitHubRepoID}
	}
	return tokenKey{installationID: m.InstallationID, name: m.A.FullName()}
}

// keptToken is a minted GitHub token kept for the next syncs of its
// repository.
type keptToken struct {
	token   string
	expires time.Time
}

// repoToken returns a GitHub token for m's repository alone with at least
// minTokenLife left: the one minted for an earlier sync while it has that
// much life (cached is then true), else a new one. A token lives an hour,
// so a repository pushed to all day mints about one an hour instead of one
// per push: one API call and an App JWT less per sync, and GitHub's rate
// limit spared.
func (r *DefaultRunner) repoToken(ctx context.Context, m *store.Mirror) (token string, cached bool, err error) {
	key := keyOf(m)
	r.mu.Lock()
	t, ok := r.tokens[key]
	r.mu.Unlock()
	if ok && t.expires.Sub(r.now()) >= minTokenLife {
		return t.token, true, nil
	}
	for attempt := 0; attempt < 2; attempt++ {
		token, expires, err := r.mint(ctx, m)
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

// forgetToken drops m's repository's token: GitHub refused it (revoked,
// the installation suspended, permissions changed since it was minted).
func (r *DefaultRunner) forgetToken(m *store.Mirror) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.tokens, keyOf(m))
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
