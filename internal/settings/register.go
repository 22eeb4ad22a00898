package settings

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/gitee-mirror/gitee-mirror/internal/config"
	"github.com/gitee-mirror/gitee-mirror/internal/githubapp"
	"github.com/gitee-mirror/gitee-mirror/internal/logkey"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/gitee-mirror/gitee-mirror/internal/validate"
)

// Settings keys of a registered App. The key, webhook secret and client
// secret are stored encrypted.
const (
	SettingAppID         = "github_app.id"
	SettingAppSlug       = "github_app.slug"
	SettingPrivateKey    = "github_app.private_key"
	SettingWebhookSecret = "github_app.webhook_secret"
	SettingClientID      = "github_app.client_id"
	SettingClientSecret  = "github_app.client_secret"
)

const registerCookie = "gm_register"

// Registration is a GitHub App registered from the front page.
type Registration struct {
	AppID         int64
	Slug          string
	PrivateKey    string // PEM; secret
	WebhookSecret string // secret
	ClientID      string
	ClientSecret  string // secret
}

// LoadRegistration reads the registered App; nil, nil when there is none.
func LoadRegistration(ctx context.Context, st store.Store) (*Registration, error) {
	get := func(k string) (string, error) {
		v, err := st.Setting(ctx, k)
		if errors.Is(err, store.ErrNotFound) {
			return "", nil
		}
		return v, err
	}
	idText, err := get(SettingAppID)
	if err != nil || idText == "" {
		return nil, err
	}
	var r Registration
	if r.AppID, err = strconv.ParseInt(idText, 10, 64); err != nil {
		return nil, err
	}
	for k, p := range map[string]*string{SettingAppSlug: &r.Slug, SettingPrivateKey: &r.PrivateKey,
		SettingWebhookSecret: &r.WebhookSecret, SettingClientID: &r.ClientID, SettingClientSecret: &r.ClientSecret} {
		if *p, err = get(k); err != nil {
			return nil, err
		}
	}
	return &r, nil
}

// save stores the registration, the App id last: it marks the set complete.
func (r *Registration) save(ctx context.Context, st store.Store) error {
	for _, kv := range []struct {
		k, v   string
		secret bool
	}{
		{SettingAppSlug, r.Slug, false}, {SettingPrivateKey, r.PrivateKey, true},
		{SettingWebhookSecret, r.WebhookSecret, true}, {SettingClientID, r.ClientID, false},
		{SettingClientSecret, r.ClientSecret, true}, {SettingAppID, strconv.FormatInt(r.AppID, 10), false},
	} {
		if err := st.SetSetting(ctx, kv.k, kv.v, kv.secret); err != nil {
			return err
		}
	}
	return nil
}

// registrationOpen reports whether the App may still be registered here:
// only while no App credentials exist.
func (h *Handler) registrationOpen(ctx context.Context) (bool, error) {
	if h.opts.Config.AppID != 0 || h.opts.Config.PrivateKey.IsSet() {
		return false, nil
	}
	reg, err := LoadRegistration(ctx, h.opts.Store)
	return reg == nil, err
}

// manifest is the GitHub App manifest this server registers.
func (h *Handler) manifest(base string) map[string]any {
	return map[string]any{
		"name":                     "gitee-mirror " + randomToken(3),
		"url":                      base + "/",
		"hook_attributes":          map[string]any{"url": base + "/webhooks/github", "active": true},
		"redirect_url":             base + Prefix + "/registered",
		"callback_urls":            []string{base + Prefix + "/callback"},
		"setup_url":                base + Prefix + "/",
		"public":                   false,
		"request_oauth_on_install": false,
		"default_permissions":      githubapp.Permissions,
		"default_events":           githubapp.Events,
	}
}

// registerPage asks for the set-up code (and, optionally, an
// organisation to own the App); without an encryption key it says why
// registration cannot work yet and offers no button, so that GitHub never
// creates an App, and spends its one-time code, for credentials this
// server could not store.
func (h *Handler) registerPage(w http.ResponseWriter, r *http.Request) {
	if !h.registrationAllowed(w, r) {
		return
	}
	h.render(w, r, nil, http.StatusOK, "register", "Register the GitHub App", map[string]any{
		"KeySet": true, "GitHubURL": h.opts.Config.GitHubURL, "Base": h.baseURL(r),
	})
}

// register checks the set-up code, then shows the form that posts the
// manifest to GitHub, for the person's account or the organisation given.
func (h *Handler) register(w http.ResponseWriter, r *http.Request) {
	if !h.registrationAllowed(w, r) {
		return
	}
	if !h.setupCodeOK(r.Context(), r.PostFormValue(setupCodeField)) {
		h.log.WarnContext(r.Context(), "registration refused: wrong set-up code", "remote", r.RemoteAddr)
		h.fail(w, r, nil, http.StatusForbidden, "That is not this server's set-up code. The server printed it in its log when it started (the line with setup_code=); enter it as it is there.")
		return
	}
	org := strings.TrimSpace(r.PostFormValue("org"))
	if org != "" {
		if err := validate.Owner(validate.GitHub, org); err != nil {
			h.fail(w, r, nil, http.StatusUnprocessableEntity, "That is not an organisation name: "+err.Error()+".")
			return
		}
	}
	h.registerForm(w, r, org)
}

// registrationAllowed answers for the register pages when registration
// cannot go ahead: an App exists (409), or no encryption key is set (503,
// with what to do).
func (h *Handler) registrationAllowed(w http.ResponseWriter, r *http.Request) bool {
	open, err := h.registrationOpen(r.Context())
	if err != nil {
		h.handleErr(w, r, nil, err)
		return false
	}
	if !open {
		h.fail(w, r, nil, http.StatusConflict, "This server already has a GitHub App.")
		return false
	}
	if !h.opts.Config.SecretKey.IsSet() {
		h.render(w, r, nil, http.StatusServiceUnavailable, "register", "Register the GitHub App", map[string]any{
			"KeySet": false, "GitHubURL": h.opts.Config.GitHubURL, "Base": h.baseURL(r), "EnvKey": config.EnvSecretKey,
		})
		return false
	}
	return true
}

// registerForm renders the form that posts the manifest to GitHub, with a
// fresh single-use state bound to this browser by a cookie.
func (h *Handler) registerForm(w http.ResponseWriter, r *http.Request, org string) {
	browser := randomToken(24)
	http.SetCookie(w, h.cookies.cookie(registerCookie, browser, int(stateLifetime/time.Second)))
	state, err := h.states.add(r.Context(), pending{Browser: browser, Expires: h.opts.Now().Add(stateLifetime)})
	if err != nil {
		h.handleErr(w, r, nil, err)
		return
	}
	target := h.opts.Config.GitHubURL + "/settings/apps/new"
	if org != "" {
		target = h.opts.Config.GitHubURL + "/organizations/" + url.PathEscape(org) + "/settings/apps/new"
	}
	m, _ := json.Marshal(h.manifest(h.baseURL(r)))
	h.render(w, r, nil, http.StatusOK, "manifest", "Register the GitHub App", map[string]any{
		"Action": target + "?state=" + url.QueryEscape(state), "Manifest": string(m), "Org": org,
		"Base": h.baseURL(r), "GitHubURL": h.opts.Config.GitHubURL,
	})
}

// registered converts GitHub's code into the App's credentials and stores
// them encrypted.
func (h *Handler) registered(w http.ResponseWriter, r *http.Request) {
	var browser string
	if c, err := r.Cookie(registerCookie); err == nil {
		browser = c.Value
	}
	if _, err := h.states.take(r.Context(), r.URL.Query().Get("state"), browser, h.opts.Now()); err != nil {
		h.fail(w, r, nil, http.StatusBadRequest, "The registration link is stale or was already used: start again from the front page.")
		return
	}
	http.SetCookie(w, h.cookies.cookie(registerCookie, "", -1))
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	if open, err := h.registrationOpen(ctx); err != nil || !open {
		h.fail(w, r, nil, http.StatusConflict, "This server already has a GitHub App.")
		return
	}
	if !h.opts.Config.SecretKey.IsSet() { // the pages refuse earlier; never spend the code for nothing
		h.fail(w, r, nil, http.StatusServiceUnavailable, "Set "+config.EnvSecretKey+" and restart the server first: the App's key is stored encrypted with it.")
		return
	}
	c := h.userClient("")
	cfg, _, err := c.Apps.CompleteAppManifest(ctx, r.URL.Query().Get("code"))
	if err != nil {
		var er *github.ErrorResponse
		if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound {
			h.fail(w, r, nil, http.StatusBadRequest, "GitHub did not know that code (it works once, for an hour): register again.")
			return
		}
		h.handleErr(w, r, nil, err)
		return
	}
	reg := &Registration{AppID: cfg.GetID(), Slug: cfg.GetSlug(), PrivateKey: cfg.GetPEM(),
		WebhookSecret: cfg.GetWebhookSecret(), ClientID: cfg.GetClientID(), ClientSecret: cfg.GetClientSecret()}
	if reg.AppID == 0 || reg.PrivateKey == "" || reg.WebhookSecret == "" {
		h.fail(w, r, nil, http.StatusBadGateway, "GitHub's answer lacked the App's id, key or webhook secret.")
		return
	}
	if err := reg.save(ctx, h.opts.Store); err != nil {
		h.handleErr(w, r, nil, err)
		return
	}
	h.log.InfoContext(ctx, "GitHub App registered", "app_id", reg.AppID, "slug", reg.Slug)
	if h.opts.OnRegistered != nil {
		if err := h.opts.OnRegistered(ctx); err != nil {
			h.log.ErrorContext(ctx, "error starting with the registered App", logkey.Error, err)
			h.fail(w, r, nil, http.StatusInternalServerError, "The App was registered and stored, but this server could not start using it: "+err.Error()+". Restart the server.")
			return
		}
	}
	h.render(w, r, nil, http.StatusOK, "registered", "GitHub App registered", map[string]any{
		"Slug": reg.Slug, "InstallURL": h.installURL(AppCredentials{Slug: reg.Slug}),
	})
}
