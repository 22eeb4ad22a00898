package actioncmd

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/gitee"
	"github.com/gitee-mirror/gitee-mirror/internal/githubapp"
)

// forgeSpec is what it takes to build the client of one side.
type forgeSpec struct {
	account
	web, api string       // the site's web (Git) and API addresses
	warn     func(string) // prints a warning; never given a token
}

// newForge builds the real client of one side: the app's default NewForge.
// For Gitee it asks GET /user for the token's login once, because Gitee's
// Git server wants that login as the username.
func newForge(ctx context.Context, s forgeSpec) (forge.Forge, error) {
	switch s.site {
	case siteGitHub:
		return githubapp.NewWithToken(s.token, githubapp.Options{APIURL: s.api, GitURL: s.web})
	case siteGitee:
		c, err := gitee.New(gitee.Config{BaseURL: s.api, GitBaseURL: s.web, Token: s.token, Username: s.username, UserAgent: userAgent})
		if err != nil {
			return nil, err
		}
		u, err := c.User(ctx)
		if err == nil {
			if s.username != "" && !strings.EqualFold(s.username, u.Login) {
				s.warn(fmt.Sprintf("%s-username %s is ignored: the %s belongs to %s, and Gitee wants the token owner's login", s.role, s.username, s.tokenInput, u.Login))
			}
			return c, nil
		}
		if s.username == "" || failure.ClassOf(err) == failure.Auth || ctx.Err() != nil {
			return nil, fmt.Errorf("checking the %s with Gitee (GET /user): %w", s.tokenInput, err)
		}
		s.warn(fmt.Sprintf("could not learn the login of the %s from Gitee (%v); using %s-username %s", s.tokenInput, err, s.role, s.username))
		return c, nil
	}
	return nil, failure.New(failure.Invalid, "no API client for %s", s.site)
}

// credentials are the Git credentials for a side: the client's, with an
// explicit GitHub username honoured (GitHub accepts any with a token).
func credentials(f forge.Forge, a account) forge.Credentials {
	c := f.GitCredentials()
	if c.Token == "" {
		return forge.Credentials{}
	}
	if a.username != "" && (a.site == siteGitHub || c.Username == "") {
		c.Username = a.username
	}
	if c.Username == "" {
		c.Username = defaultUsername
	}
	return c
}

// kindFinder is a forge that can say whether an account is a user or an
// organisation (githubapp's client can).
type kindFinder interface {
	AccountKind(ctx context.Context, owner string) (forge.AccountKind, error)
}

// loginer is a forge that knows its token's login (both clients do).
type loginer interface {
	Login(ctx context.Context) (string, error)
}

// kindCache knows what the destination owner is, so that creating each
// repository needs no lookup of its own. It asks once: a forge that can tell
// (GitHub) says; otherwise the token's own login is a user, and any other
// owner is left for CreateRepo to look up, until one creation there has
// succeeded: Gitee creates repositories only in the token's own account and
// in organisations (enterprises must be named), so that owner is an
// organisation from then on.
type kindCache struct {
	once      sync.Once
	mu        sync.Mutex
	kind      forge.AccountKind
	learnable bool // the owner is not the token's login: a success means Org
}

// get returns the owner's kind; "" leaves it to the forge.
func (k *kindCache) get(ctx context.Context, f forge.Forge, owner string) forge.AccountKind {
	k.once.Do(func() {
		kind, learnable := ownerKind(ctx, f, owner)
		k.mu.Lock()
		k.kind, k.learnable = kind, learnable
		k.mu.Unlock()
	})
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.kind
}

// set records what the owner turned out to be.
func (k *kindCache) set(kind forge.AccountKind) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.kind = kind
}

// created records a successful creation made with kind used.
func (k *kindCache) created(used forge.AccountKind) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if used == "" && k.learnable {
		k.kind = forge.Org
	}
}

// ownerKind asks f what owner is. learnable is true when f cannot tell but
// owner is known not to be the token's own account.
func ownerKind(ctx context.Context, f forge.Forge, owner string) (kind forge.AccountKind, learnable bool) {
	if k, ok := f.(kindFinder); ok {
		if kind, err := k.AccountKind(ctx, owner); err == nil {
			return kind, false
		}
		return "", false
	}
	if l, ok := f.(loginer); ok {
		if _, err := l.Login(ctx); err != nil {
			return "", false
		}
		if isLogin(ctx, l, owner) {
			return forge.User, false
		}
		return "", true
	}
	return "", false
}
