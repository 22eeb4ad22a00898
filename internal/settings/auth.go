package settings

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"
)

const browserCookie = "gm_oauth"

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// dashboard is the start page: sign in, or the installations the user sees.
func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request) {
	s := h.cookies.read(r, h.opts.Now())
	creds := h.opts.Credentials(r.Context())
	if s == nil {
		h.render(w, r, nil, http.StatusOK, "signin", "Sign in", map[string]any{
			"OAuth": creds.ClientID != "", "Registered": creds.AppID != 0 || h.opts.Config.AppConfigured(),
		})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	list, err := h.installations(ctx, s)
	if err != nil {
		h.handleErr(w, r, s, err)
		return
	}
	h.render(w, r, s, http.StatusOK, "dashboard", "Your installations", map[string]any{
		"Installations": list, "InstallURL": h.installURL(creds),
	})
}

// installURL is where people install the App, "" when its slug is unknown.
func (h *Handler) installURL(c AppCredentials) string {
	if c.Slug == "" {
		return ""
	}
	return h.opts.Config.GitHubURL + "/apps/" + url.PathEscape(c.Slug) + "/installations/new"
}

// login starts GitHub's OAuth web flow: a single-use state bound to this
// browser by a cookie, and a PKCE (S256) challenge.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	creds := h.opts.Credentials(r.Context())
	if creds.ClientID == "" {
		h.fail(w, r, nil, http.StatusServiceUnavailable,
			"Sign-in is not set up: register the GitHub App from the front page, or set GITEE_MIRROR_OAUTH_CLIENT_ID and GITEE_MIRROR_OAUTH_CLIENT_SECRET.")
		return
	}
	browser := randomToken(24)
	http.SetCookie(w, h.cookies.cookie(browserCookie, browser, int(stateLifetime/time.Second)))
	verifier := randomToken(32)
	state, err := h.states.add(r.Context(), pending{Verifier: verifier, Browser: browser, Expires: h.opts.Now().Add(stateLifetime)})
	if err != nil {
		h.handleErr(w, r, nil, err)
		return
	}
	q := url.Values{
		"client_id": {creds.ClientID}, "redirect_uri": {h.baseURL(r) + Prefix + "/callback"},
		"state": {state}, "code_challenge": {pkceChallenge(verifier)}, "code_challenge_method": {"S256"},
	}
	http.Redirect(w, r, h.opts.Config.GitHubURL+"/login/oauth/authorize?"+q.Encode(), http.StatusFound)
}

// callback finishes the sign-in: the state must be the one this browser
// left with, unused and fresh.
func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var browser string
	if c, err := r.Cookie(browserCookie); err == nil {
		browser = c.Value
	}
	p, err := h.states.take(r.Context(), q.Get("state"), browser, h.opts.Now())
	if errors.Is(err, errBadState) {
		h.fail(w, r, nil, http.StatusBadRequest, err.Error())
		return
	}
	if err != nil {
		h.handleErr(w, r, nil, err)
		return
	}
	http.SetCookie(w, h.cookies.cookie(browserCookie, "", -1))
	if e := q.Get("error"); e != "" {
		h.fail(w, r, nil, http.StatusForbidden, "GitHub did not sign you in: "+q.Get("error_description")+" ("+e+")")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	token, err := h.exchangeCode(ctx, h.opts.Credentials(ctx), q.Get("code"), p.Verifier, h.baseURL(r)+Prefix+"/callback")
	if err != nil {
		h.fail(w, r, nil, http.StatusBadGateway, err.Error())
		return
	}
	u, _, err := h.userClient(token).Users.Get(ctx, "")
	if err != nil {
		h.handleErr(w, r, nil, githubErr("asking GitHub who you are", err))
		return
	}
	s := &session{Login: u.GetLogin(), UserID: u.GetID(), Token: token, Expires: h.opts.Now().Add(sessionLifetime)}
	if err := h.cookies.write(w, s); err != nil {
		h.handleErr(w, r, nil, err)
		return
	}
	h.log.InfoContext(ctx, "signed in", "login", s.Login)
	http.Redirect(w, r, Prefix+"/", http.StatusSeeOther)
}

// logout ends the session.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	h.cookies.clear(w)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
