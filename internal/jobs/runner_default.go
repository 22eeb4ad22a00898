package jobs

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/gitee"
	"github.com/gitee-mirror/gitee-mirror/internal/githubapp"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// minTokenLife is the least life a GitHub token minted for a push may have:
// a long push must not outlive its token.
const minTokenLife = 10 * time.Minute

// DefaultTokenHint says how to connect a Gitee token when none is stored.
const DefaultTokenHint = "connect a Gitee personal access token (scopes projects and hook) for this installation on the App's settings page"

// RunnerConfig configures DefaultRunner.
type RunnerConfig struct {
	// Store holds Gitee credentials, mirrors and last-synced ref state.
	Store store.Store
	// App mints installation tokens and installation API clients.
	App *githubapp.AppTransport
	// GitHubAPIURL and GitHubGitURL: github.com's when empty; for GitHub
	// Enterprise Server, https://HOST/api/v3/ and https://HOST.
	GitHubAPIURL string
	GitHubGitURL string
	// GiteeAPIURL and GiteeGitURL: gitee.com's when empty
	// (https://gitee.com/api/v5 and https://gitee.com).
	GiteeAPIURL string
	GiteeGitURL string
	// HTTPClient for Git over HTTPS and Gitee's API; nil means the sync
	// core's client (sane timeouts, no redirects to other hosts) and the
	// Gitee client's own.
	HTTPClient *http.Client
	// Logger defaults to slog.Default(). It never receives a token.
	Logger *slog.Logger
	// CacheDir, optional, keeps each mirror's commit graph between syncs
	// (no credentials), so ancestry questions need no extra fetch.
	CacheDir string
	// TokenHint ends the error shown when an installation has no Gitee
	// token: how to set one. Default DefaultTokenHint.
	TokenHint string
	// DetailsURL, optional, links a check run to the mirror's page.
	DetailsURL func(m *store.Mirror) string
	// HookURL, optional, is the URL of a mirror's Gitee webhook
	// (<public URL>/webhooks/gitee/<hook id>): with it, a pull mirror
	// without a webhook gets one registered by its next sync.
	HookURL func(m *store.Mirror) string
}

// DefaultRunner is the App's Runner: it syncs with an installation token
// scoped to the one GitHub repository and the installation's (or mirror's)
// Gitee token, creates missing Gitee repositories, reports check runs, and
// applies .github/gitee-mirror.yml.
type DefaultRunner struct {
	cfg RunnerConfig
	log *slog.Logger

	// Seams for tests; set from cfg.App by NewRunner.
	mint   func(ctx context.Context, m *store.Mirror) (token string, expires time.Time, err error)
	github func(installationID int64) (*githubapp.Client, error)
	now    func() time.Time

	mu     sync.Mutex
	logins map[[32]byte]string    // Gitee login per hash of API URL and token
	tokens map[tokenKey]keptToken // GitHub tokens per repository: tokens.go
}

var _ Runner = (*DefaultRunner)(nil)

// NewRunner returns the App's Runner.
func NewRunner(cfg RunnerConfig) (*DefaultRunner, error) {
	if cfg.Store == nil || cfg.App == nil {
		return nil, errors.New("jobs: RunnerConfig needs Store and App")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.TokenHint == "" {
		cfg.TokenHint = DefaultTokenHint
	}
	r := &DefaultRunner{cfg: cfg, log: cfg.Logger, now: time.Now, logins: map[[32]byte]string{}, tokens: map[tokenKey]keptToken{}}
	r.mint = func(ctx context.Context, m *store.Mirror) (string, time.Time, error) {
		if m.GitHubRepoID > 0 {
			return cfg.App.RepoTokenByID(ctx, m.InstallationID, m.GitHubRepoID)
		}
		return cfg.App.RepoToken(ctx, m.InstallationID, m.FullGitHubName())
	}
	r.github = func(installationID int64) (*githubapp.Client, error) {
		return cfg.App.InstallationClient(installationID, githubapp.Options{APIURL: cfg.GitHubAPIURL, GitURL: cfg.GitHubGitURL})
	}
	return r, nil
}

// giteeToken returns the Gitee credential for m.
func (r *DefaultRunner) giteeToken(ctx context.Context, m *store.Mirror) (*store.Credential, error) {
	c, err := r.cfg.Store.GetCredential(ctx, m.InstallationID, m.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, failure.New(failure.Auth, "no Gitee token connected for this installation: %s", r.cfg.TokenHint)
	case errors.Is(err, store.ErrNoKey):
		return nil, failure.Wrap(failure.Internal, err, "cannot read the stored Gitee token")
	case err != nil:
		return nil, failure.Wrap(failure.Internal, err, "cannot read the stored Gitee token")
	}
	return c, nil
}

// gitee returns a Gitee client for token that knows the token's login,
// asking Gitee once per token.
func (r *DefaultRunner) gitee(ctx context.Context, token string) (*gitee.Client, string, error) {
	key := sha256.Sum256([]byte(r.cfg.GiteeAPIURL + "\x00" + token))
	r.mu.Lock()
	login := r.logins[key]
	r.mu.Unlock()
	c, err := gitee.New(gitee.Config{BaseURL: r.cfg.GiteeAPIURL, GitBaseURL: r.cfg.GiteeGitURL, Token: token,
		Username: login, HTTPClient: r.cfg.HTTPClient})
	if err != nil {
		return nil, "", err
	}
	if login != "" {
		return c, login, nil
	}
	u, err := c.User(ctx)
	if err != nil {
		return nil, "", err
	}
	r.mu.Lock()
	r.logins[key] = u.Login
	r.mu.Unlock()
	return c, u.Login, nil
}

// refState keeps the sync core's last-synced state in the store.
type refState struct {
	ctx context.Context
	st  store.Store
	id  int64
}

// Load implements mirror.StateStore.
func (s refState) Load() (map[string]string, error) {
	m, err := s.st.RefState(s.ctx, s.id)
	if err != nil {
		return nil, fmt.Errorf("error reading ref state of mirror %d: %w", s.id, err)
	}
	return m, nil
}

// Save implements mirror.StateStore. It saves even when the sync ran out of
// time: what was written must be remembered.
func (s refState) Save(refs map[string]string) error {
	ctx, cancel := afterwards(s.ctx)
	defer cancel()
	if err := s.st.SaveRefState(ctx, s.id, refs); err != nil {
		return fmt.Errorf("error saving ref state of mirror %d: %w", s.id, err)
	}
	return nil
}
