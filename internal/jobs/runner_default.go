package jobs

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// minTokenLife is the least life a GitHub token minted for a push may have:
// a long push must not outlive its token.
const minTokenLife = 10 * time.Minute

// DefaultTokenHint says how to connect a Gitee token when none is stored.
const DefaultTokenHint = "connect a Gitee personal access token (scopes projects and hook) for this installation on the App's settings page"

// Sites builds the forges of a mirror's sides: side A's site as an
// installation of the App, and any site for a token. app/ implements it
// over the concrete sites; tests hand in doubles.
type Sites interface {
	forge.Installations
	forge.Opener
}

// RunnerConfig configures DefaultRunner.
type RunnerConfig struct {
	// Store holds Gitee credentials, mirrors and last-synced ref state.
	Store store.Store
	// Sites reaches the sides' sites.
	Sites Sites
	// HTTPClient for Git over HTTPS; nil means one sync core client
	// (sane timeouts, no redirects to other hosts) made by NewRunner and
	// shared by every sync, so that connections are reused.
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
	// ProgressEvery is how often a running sync's progress is written to
	// the store for the pages (DefaultProgressEvery when 0);
	// ProgressLogEvery, how often it is logged (DefaultProgressLogEvery).
	ProgressEvery, ProgressLogEvery time.Duration
	// BaseURL, optional, is the App's public URL: with it, a mirror fed
	// from side B without a webhook gets one registered by its next sync
	// (store.Mirror.HookURL).
	BaseURL string
}

// DefaultRunner is the App's Runner: it syncs with an installation token
// scoped to the one GitHub repository and the installation's (or mirror's)
// Gitee token, creates missing Gitee repositories, reports check runs, and
// applies .github/gitee-mirror.yml. It sees the sites only through the
// forge interfaces.
type DefaultRunner struct {
	cfg RunnerConfig
	log *slog.Logger

	// Seams for tests; set from cfg.Sites by NewRunner.
	mint   func(ctx context.Context, m *store.Mirror, scope forge.TokenScope) (token string, expires time.Time, err error)
	github func(installationID int64) (forge.Forge, error)
	now    func() time.Time
	tick   func(time.Duration) (<-chan time.Time, func()) // progress.go

	mu     sync.Mutex
	logins map[[32]byte]string    // side B login per hash of site and token
	tokens map[tokenKey]keptToken // GitHub tokens per repository: tokens.go
	// released holds each sync's releases outcome until the worker takes
	// it (runner_releases.go).
	released map[*mirror.Result]releasesDone
}

var _ Runner = (*DefaultRunner)(nil)

// NewRunner returns the App's Runner.
func NewRunner(cfg RunnerConfig) (*DefaultRunner, error) {
	if cfg.Store == nil || cfg.Sites == nil {
		return nil, errors.New("jobs: RunnerConfig needs Store and Sites")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.TokenHint == "" {
		cfg.TokenHint = DefaultTokenHint
	}
	if cfg.HTTPClient == nil {
		// Not one per sync: each would keep its idle connections (and
		// their goroutines and buffers) for 90 s, tens of MB at a
		// reconcile's pace, and pay a TLS handshake per request.
		cfg.HTTPClient = mirror.DefaultHTTPClient()
	}
	cfg.ProgressEvery = cmp.Or(cfg.ProgressEvery, DefaultProgressEvery)
	cfg.ProgressLogEvery = cmp.Or(cfg.ProgressLogEvery, DefaultProgressLogEvery)
	r := &DefaultRunner{cfg: cfg, log: cfg.Logger, now: time.Now, tick: newTicker, logins: map[[32]byte]string{}, tokens: map[tokenKey]keptToken{},
		released: map[*mirror.Result]releasesDone{}}
	r.github = cfg.Sites.Installation
	r.mint = r.scopedToken
	return r, nil
}

// scopedToken mints a token for m's side A repository alone with scope.
func (r *DefaultRunner) scopedToken(ctx context.Context, m *store.Mirror, scope forge.TokenScope) (string, time.Time, error) {
	inst, err := r.github(m.InstallationID)
	if err != nil {
		return "", time.Time{}, err
	}
	rt, ok := inst.(forge.RepoTokens)
	if !ok {
		return "", time.Time{}, failure.New(failure.Internal, "%s cannot mint repository tokens", inst.Name())
	}
	return rt.RepoToken(ctx, forge.RepoRef{ID: m.GitHubRepoID, Owner: m.A.Owner, Name: m.A.Name}, scope)
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

// sideB returns the forge of m's side B reached with token, knowing the
// token's login, asking the site once per token.
func (r *DefaultRunner) sideB(ctx context.Context, m *store.Mirror, token string) (forge.Forge, error) {
	site := siteB(m)
	key := sha256.Sum256([]byte(string(site) + "\x00" + token))
	r.mu.Lock()
	login := r.logins[key]
	r.mu.Unlock()
	f, err := r.cfg.Sites.Open(site, forge.Credentials{Username: login, Token: token})
	if err != nil {
		return nil, err
	}
	if login != "" {
		return f, nil
	}
	acct, ok := f.(forge.Account)
	if !ok {
		return f, nil
	}
	if login, err = acct.Login(ctx); err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.logins[key] = login
	r.mu.Unlock()
	return f, nil
}

// siteB is side B's site, Gitee when the mirror does not say.
func siteB(m *store.Mirror) forge.Site { return cmp.Or(m.B.Site, forge.Gitee) }

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
