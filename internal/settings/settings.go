// Package settings serves the App's pages for people: sign-in with GitHub
// (the App's OAuth web flow, with a single-use state and PKCE), the
// installations and repositories the signed-in user can see, the Gitee
// connection, each repository's mirror settings and status, and the
// one-click registration of the GitHub App from a manifest.
//
// Who may do what is asked of GitHub with the user's own token on every
// request: installations and repositories come from GET /user/installations
// and its repositories, never from an id in the URL alone; changing a mirror
// needs admin permission on the repository (cached for at most a minute).
// Every state-changing request goes through http.CrossOriginProtection.
// Pages are server-rendered html/template with embedded assets and work
// without JavaScript.
package settings

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/config"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/logkey"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

//go:embed templates/*.html templates/parts/*.html
var templateFS embed.FS

//go:embed static/style.css
var styleCSS []byte

// Prefix is where the pages live.
const Prefix = "/settings"

// Queue is what the pages need from the job queue (jobs.Queue fits).
type Queue interface {
	RequestSync(ctx context.Context, mirrorID int64, trigger store.Trigger, resume bool) error
}

// AppCredentials are what the pages need of the GitHub App.
type AppCredentials struct {
	AppID        int64
	Slug         string // for the install link; "" when unknown
	ClientID     string
	ClientSecret string
}

// Options are the pages' dependencies.
type Options struct {
	Config *config.Config
	Store  store.Store
	Queue  Queue
	Logger *slog.Logger // nil: discard
	// HTTPClient reaches GitHub and Gitee; nil: 30 s timeout, no redirects.
	HTTPClient *http.Client
	// SessionKey derives the key that encrypts session cookies; nil: a
	// random key (sessions end when the process stops).
	SessionKey []byte
	// Credentials returns the App's current credentials (from the
	// environment or from a registration); nil: from Config and the store.
	Credentials func(ctx context.Context) AppCredentials
	// AppSlug, when set, tells the App's slug (for the install link) when
	// the store does not know it, e.g. for an App configured by the
	// environment.
	AppSlug func(ctx context.Context) string
	// SetupCode is the one-time code the register pages ask for (see
	// AnnounceSetupCode); "": a random one, kept in the store so that
	// every replica asks for the same.
	SetupCode string
	// OnRegistered runs after a one-click registration stored new
	// credentials, so the App can start using them without a restart.
	OnRegistered func(ctx context.Context) error
	// Sites reaches Gitee with a person's token (checking it, registering
	// webhooks); required.
	Sites forge.Opener
	// GiteeUser checks a Gitee token and returns its login; nil: the
	// token's login on Sites' Gitee (forge.Account).
	GiteeUser func(ctx context.Context, token string) (string, error)
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	// PermissionTTL is how long a permission level from GitHub is reused;
	// 0: one minute. Never more than a minute.
	PermissionTTL time.Duration
}

// Handler serves the pages under Prefix.
type Handler struct {
	opts    Options
	log     *slog.Logger
	cookies *cookieBox
	states  states
	perms   permCache
	pages   map[string]*template.Template
	handler http.Handler
}

// New builds the pages.
func New(opts Options) (*Handler, error) {
	if opts.Config == nil || opts.Store == nil || opts.Queue == nil || opts.Sites == nil {
		return nil, errors.New("settings: Config, Store, Queue and Sites are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if opts.PermissionTTL <= 0 || opts.PermissionTTL > time.Minute {
		opts.PermissionTTL = time.Minute
	}
	secure := strings.HasPrefix(opts.Config.PublicURL, "https://")
	cb, err := newCookieBox(opts.SessionKey, secure)
	if err != nil {
		return nil, err
	}
	h := &Handler{opts: opts, log: opts.Logger, cookies: cb, perms: permCache{ttl: opts.PermissionTTL},
		states: states{st: opts.Store, box: cb.box}}
	if h.opts.Credentials == nil {
		h.opts.Credentials = h.storedCredentials
	}
	if h.opts.GiteeUser == nil {
		h.opts.GiteeUser = h.giteeUser
	}
	if err := h.parseTemplates(); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	h.routes(mux)
	// Every POST, PUT, PATCH or DELETE from another origin is refused
	// (Sec-Fetch-Site, else Origin against Host).
	cop := http.NewCrossOriginProtection()
	h.handler = securityHeaders(cop.Handler(mux))
	return h, nil
}

func (h *Handler) routes(m *http.ServeMux) {
	p := Prefix
	m.HandleFunc("GET "+p+"/static/style.css", h.style)
	m.HandleFunc("GET "+p+"/{$}", h.dashboard)
	m.HandleFunc("GET "+p+"/login", h.login)
	m.HandleFunc("GET "+p+"/callback", h.callback)
	m.HandleFunc("POST "+p+"/logout", h.logout)
	m.HandleFunc("GET "+p+"/status", h.signedIn(h.status))
	m.HandleFunc("GET "+p+"/installations/{inst}", h.signedIn(h.installationPage))
	m.HandleFunc("POST "+p+"/installations/{inst}/gitee", h.signedIn(h.setGitee))
	m.HandleFunc("POST "+p+"/installations/{inst}/gitee/remove", h.signedIn(h.removeGitee))
	m.HandleFunc("GET "+p+"/installations/{inst}/repos/{repo}", h.signedIn(h.repoPage))
	m.HandleFunc("POST "+p+"/installations/{inst}/repos/{repo}/mirrors", h.signedIn(h.createMirror))
	m.HandleFunc("POST "+p+"/installations/{inst}/repos/{repo}/mirrors/{mirror}/{action}", h.signedIn(h.mirrorAction))
	m.HandleFunc("GET "+p+"/register", h.registerPage)
	m.HandleFunc("POST "+p+"/register", h.register)
	m.HandleFunc("GET "+p+"/registered", h.registered)
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.handler.ServeHTTP(w, r) }

// securityHeaders keeps the pages out of frames and other sites' reach.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self' https: http:; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

func (h *Handler) style(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(styleCSS)
}

// baseURL is where people and sites reach the App (config.BaseURL).
func (h *Handler) baseURL(r *http.Request) string { return h.opts.Config.BaseURL(r) }

// storedCredentials are the environment's, else the registered App's.
func (h *Handler) storedCredentials(ctx context.Context) AppCredentials {
	cfg := h.opts.Config
	c := AppCredentials{AppID: cfg.AppID, ClientID: cfg.OAuthClientID, ClientSecret: cfg.OAuthClientSecret.Reveal()}
	c.Slug, _ = h.opts.Store.Setting(ctx, SettingAppSlug)
	if c.Slug == "" && h.opts.AppSlug != nil {
		c.Slug = h.opts.AppSlug(ctx)
	}
	if c.ClientID == "" {
		r, err := LoadRegistration(ctx, h.opts.Store)
		if err == nil && r != nil {
			c = AppCredentials{AppID: r.AppID, Slug: r.Slug, ClientID: r.ClientID, ClientSecret: r.ClientSecret}
		}
	}
	return c
}

// signedIn runs next with the session, or sends the person to sign in.
func (h *Handler) signedIn(next func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := h.cookies.read(r, h.opts.Now())
		if s == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, Prefix+"/login", http.StatusSeeOther)
				return
			}
			h.fail(w, r, nil, http.StatusUnauthorized, "You are not signed in (or your session expired): sign in and try again.")
			return
		}
		next(w, r, s)
	}
}

// handleErr shows err: a stale sign-in goes back to sign-in, an invisible
// installation or repository is 404, the rest 502 (GitHub or Gitee failed).
func (h *Handler) handleErr(w http.ResponseWriter, r *http.Request, s *session, err error) {
	switch {
	case errors.Is(err, errSignedOut):
		h.cookies.clear(w)
		h.fail(w, r, nil, http.StatusUnauthorized, err.Error())
	case errors.Is(err, errNotVisible):
		h.fail(w, r, s, http.StatusNotFound, "Not found, or your GitHub account cannot see it.")
	case errors.Is(err, context.DeadlineExceeded):
		h.fail(w, r, s, http.StatusGatewayTimeout, "GitHub or Gitee took too long to answer; try again.")
	default:
		h.log.ErrorContext(r.Context(), "settings page failed", "path", r.URL.Path, logkey.Error, err)
		h.fail(w, r, s, http.StatusBadGateway, err.Error())
	}
}
