package forgetest

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// The forge's GitHub web side: the pages and endpoints a GitHub App's
// set-up and sign-in go through. A fake browser session is signed in as the
// login given to [Forge.SignInAs]:
//
//   - POST /settings/apps/new and /organizations/{org}/settings/apps/new take
//     an App manifest (form field "manifest", query "state") and redirect to
//     its redirect_url with a one-time code, without the confirmation page;
//   - POST /api/v3/app-manifests/{code}/conversions turns the code into the
//     App's id, key, webhook secret and OAuth client credentials;
//   - GET /apps/{slug}/installations/new installs the App on the signed-in
//     user's account (every repository), delivers the installation event to
//     the App's webhook URL and redirects to the App's setup or home URL;
//   - GET /login/oauth/authorize and POST /login/oauth/access_token are the
//     OAuth web flow, with PKCE (S256) checked when a challenge was sent;
//   - GET /api/v3/user/installations, GET /api/v3/user/installations/{id}/repositories
//     and GET /api/v3/repos/{owner}/{repo}/collaborators/{username}/permission
//     answer for user-to-server tokens.

const (
	oauthCodeLifetime = 10 * time.Minute
	userTokenPrefix   = "ghu_"
)

// webState is the GitHub web side of one forge.
type webState struct {
	mu        sync.Mutex
	signedIn  string                  // login of the fake browser session
	manifests map[string]*pendingApp  // manifest code → App to convert
	clients   map[string]*oauthClient // client id → App's OAuth client
	codes     map[string]*oauthCode   // authorization code → grant
	users     map[string]string       // user-to-server token → client id
	admins    map[string]bool         // "login owner/name" → admin
	hooks     map[int64]webhookTarget // App id → where its events go
	setups    map[int64]string        // App id → URL after installing
	perms     map[int64]Permissions   // App id → permissions its manifest asked for
	seen      []map[string]any        // manifests received
	nextApp   int64
	nextInst  int64
}

type pendingApp struct {
	manifest map[string]any
	owner    string
}

type oauthClient struct {
	appID     int64
	secret    string
	callbacks []string
}

type oauthCode struct {
	client    string
	login     string
	redirect  string
	challenge string
	expires   time.Time
}

type webhookTarget struct{ url, secret string }

var webStates sync.Map // *Forge → *webState

// web returns the forge's web state.
func (f *Forge) web() *webState {
	v, _ := webStates.Load(f)
	return v.(*webState)
}

// initWeb sets up the GitHub web side; initAPIs calls it.
func (f *Forge) initWeb() {
	webStates.Store(f, &webState{
		manifests: map[string]*pendingApp{}, clients: map[string]*oauthClient{},
		codes: map[string]*oauthCode{}, users: map[string]string{}, admins: map[string]bool{},
		hooks: map[int64]webhookTarget{}, setups: map[int64]string{}, perms: map[int64]Permissions{},
		nextApp: 900001, nextInst: 800001,
	})
	f.t.Cleanup(func() { webStates.Delete(f) })
	f.mux.HandleFunc("POST /settings/apps/new", f.webNewApp)
	f.mux.HandleFunc("POST /organizations/{org}/settings/apps/new", f.webNewApp)
	f.mux.HandleFunc("POST /api/v3/app-manifests/{code}/conversions", f.webConvertManifest)
	f.mux.HandleFunc("GET /apps/{slug}/installations/new", f.webInstallApp)
	f.mux.HandleFunc("GET /login/oauth/authorize", f.webAuthorize)
	f.mux.HandleFunc("POST /login/oauth/access_token", f.webAccessToken)
	f.mux.HandleFunc("GET /api/v3/user/installations", f.webUserInstallations)
	f.mux.HandleFunc("GET /api/v3/user/installations/{installation_id}/repositories", f.webUserInstallationRepos)
	f.mux.HandleFunc("GET /api/v3/repos/{owner}/{repo}/collaborators/{username}/permission", f.webCollaboratorPermission)
}

// SignInAs signs the fake browser session in to the forge's GitHub as login
// ("" signs out): the account pages and the OAuth authorization act for it.
func (f *Forge) SignInAs(login string) {
	w := f.web()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.signedIn = login
	if login != "" {
		f.api.mu.Lock()
		f.api.user(login)
		f.api.mu.Unlock()
	}
}

// GrantAdmin gives login admin permission on owner/repo (and Write access
// over Git and the APIs, which admin includes).
func (f *Forge) GrantAdmin(login, owner, repo string) {
	f.Grant(login, owner, repo, Write)
	w := f.web()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.admins[login+" "+owner+"/"+repo] = true
}

// EnableOAuth gives App appID (made with RegisterApp) OAuth client
// credentials whose callback URLs are callbacks, and returns them.
func (f *Forge) EnableOAuth(appID int64, callbacks ...string) (clientID, clientSecret string) {
	clientID = fmt.Sprintf("Iv1.%016x", appID)
	clientSecret = randomHex(20)
	w := f.web()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.clients[clientID] = &oauthClient{appID: appID, secret: clientSecret, callbacks: callbacks}
	return clientID, clientSecret
}

// AppWebhook is where App appID, registered from a manifest, gets its
// webhooks and with which secret ("" when unknown), for tests that deliver
// events with SendGitHubEvent.
func (f *Forge) AppWebhook(appID int64) (url, secret string) {
	w := f.web()
	w.mu.Lock()
	defer w.mu.Unlock()
	t := w.hooks[appID]
	return t.url, t.secret
}

// AppManifests returns the App manifests posted to the forge, oldest first.
func (f *Forge) AppManifests() []map[string]any {
	w := f.web()
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]map[string]any(nil), w.seen...)
}

// randomHex is n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// webPage answers a small HTML page (the forge's stand-in for GitHub's).
func webPage(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintln(w, msg)
}

// webNewApp takes a manifest and redirects back with a code.
func (f *Forge) webNewApp(w http.ResponseWriter, r *http.Request) {
	web := f.web()
	web.mu.Lock()
	login := web.signedIn
	web.mu.Unlock()
	if login == "" {
		webPage(w, http.StatusUnauthorized, "forgetest: sign in first (SignInAs)")
		return
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(r.PostFormValue("manifest")), &m); err != nil {
		webPage(w, http.StatusUnprocessableEntity, "forgetest: the manifest is not JSON: "+err.Error())
		return
	}
	redirect, _ := m["redirect_url"].(string)
	hook, _ := m["hook_attributes"].(map[string]any)
	hookURL, _ := hook["url"].(string)
	if redirect == "" || hookURL == "" || m["url"] == nil {
		webPage(w, http.StatusUnprocessableEntity, "forgetest: the manifest needs url, hook_attributes.url and redirect_url")
		return
	}
	owner := login
	if org := r.PathValue("org"); org != "" {
		owner = org
	}
	code := randomHex(10)
	web.mu.Lock()
	web.manifests[code] = &pendingApp{manifest: m, owner: owner}
	web.seen = append(web.seen, m)
	web.mu.Unlock()
	u, err := url.Parse(redirect)
	if err != nil {
		webPage(w, http.StatusUnprocessableEntity, "forgetest: bad redirect_url")
		return
	}
	q := u.Query()
	q.Set("code", code)
	if st := r.URL.Query().Get("state"); st != "" {
		q.Set("state", st)
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// webConvertManifest serves POST /app-manifests/{code}/conversions.
func (f *Forge) webConvertManifest(w http.ResponseWriter, r *http.Request) {
	githubHeaders(w)
	web := f.web()
	web.mu.Lock()
	p := web.manifests[r.PathValue("code")]
	delete(web.manifests, r.PathValue("code")) // single use
	id := web.nextApp
	web.nextApp++
	web.mu.Unlock()
	if p == nil {
		githubError(w, http.StatusNotFound, githubNotFound)
		return
	}
	a := f.api
	a.mu.Lock()
	n := len(a.apps.apps)
	a.mu.Unlock()
	key, err := poolKey(n)
	if err != nil {
		githubError(w, http.StatusInternalServerError, err.Error())
		return
	}
	name, _ := p.manifest["name"].(string)
	slug := strings.ToLower(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, name))
	if slug == "" || !validName(slug) {
		slug = fmt.Sprintf("app-%d", id)
	}
	app := &ghApp{id: id, slug: slug, key: &key.PublicKey, created: time.Now().UTC()}
	a.mu.Lock()
	a.apps.apps[id] = app
	a.mu.Unlock()

	var callbacks []string
	if cb, ok := p.manifest["callback_urls"].([]any); ok {
		for _, c := range cb {
			if s, ok := c.(string); ok {
				callbacks = append(callbacks, s)
			}
		}
	}
	clientID, clientSecret := f.EnableOAuth(id, callbacks...)
	hook, _ := p.manifest["hook_attributes"].(map[string]any)
	hookURL, _ := hook["url"].(string)
	webhookSecret := randomHex(20)
	setup, _ := p.manifest["setup_url"].(string)
	if setup == "" {
		setup, _ = p.manifest["url"].(string)
	}
	web.mu.Lock()
	web.hooks[id] = webhookTarget{url: hookURL, secret: webhookSecret}
	web.setups[id] = setup
	if dp, ok := p.manifest["default_permissions"].(map[string]any); ok {
		perms := Permissions{"metadata": "read"}
		for k, v := range dp {
			if s, ok := v.(string); ok {
				perms[k] = s
			}
		}
		web.perms[id] = perms
	}
	web.mu.Unlock()

	out := f.githubAppJSON(app)
	out["client_id"] = clientID
	out["client_secret"] = clientSecret
	out["webhook_secret"] = webhookSecret
	out["pem"] = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	out["name"] = name
	writeJSON(w, http.StatusCreated, out)
}

// webInstallApp installs the App on the signed-in user's account, covering
// every repository, and tells the App.
func (f *Forge) webInstallApp(w http.ResponseWriter, r *http.Request) {
	web := f.web()
	web.mu.Lock()
	login := web.signedIn
	web.mu.Unlock()
	if login == "" {
		webPage(w, http.StatusUnauthorized, "forgetest: sign in first (SignInAs)")
		return
	}
	a := f.api
	a.mu.Lock()
	var app *ghApp
	for _, ap := range a.apps.apps {
		if ap.slug == r.PathValue("slug") {
			app = ap
		}
	}
	var inst *appInstall
	if app != nil {
		for _, in := range a.apps.installs {
			if in.app == app && in.account == login {
				inst = in
			}
		}
		if inst == nil {
			web.mu.Lock()
			id := web.nextInst
			web.nextInst++
			perms, ok := web.perms[app.id]
			web.mu.Unlock()
			if !ok {
				perms = DefaultPermissions()
			}
			a.user(login)
			inst = &appInstall{id: id, app: app, account: login, repos: map[string]bool{login + "/*": true},
				perms: perms, created: time.Now().UTC()}
			a.apps.installs[id] = inst
		}
	}
	a.mu.Unlock()
	if app == nil {
		webPage(w, http.StatusNotFound, "forgetest: no such App")
		return
	}
	web.mu.Lock()
	target, setup := web.hooks[app.id], web.setups[app.id]
	web.mu.Unlock()
	if target.url != "" {
		payload := f.InstallationPayload("created", inst.id)
		if _, err := f.SendGitHubEvent(target.url, target.secret, "installation", payload, WithAppID(app.id)); err != nil {
			f.t.Logf("forgetest: delivering the installation event: %v", err)
		}
	}
	if setup == "" {
		webPage(w, http.StatusOK, fmt.Sprintf("installed as installation %d", inst.id))
		return
	}
	u, _ := url.Parse(setup)
	q := u.Query()
	q.Set("installation_id", fmt.Sprint(inst.id))
	q.Set("setup_action", "install")
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// webAuthorize serves GET /login/oauth/authorize: the signed-in user
// authorizes at once.
func (f *Forge) webAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	web := f.web()
	web.mu.Lock()
	login := web.signedIn
	client := web.clients[q.Get("client_id")]
	web.mu.Unlock()
	switch {
	case client == nil:
		webPage(w, http.StatusNotFound, "forgetest: unknown client_id")
		return
	case login == "":
		webPage(w, http.StatusUnauthorized, "forgetest: sign in first (SignInAs)")
		return
	case q.Get("code_challenge") != "" && q.Get("code_challenge_method") != "S256":
		webPage(w, http.StatusBadRequest, "forgetest: code_challenge_method must be S256")
		return
	}
	redirect := q.Get("redirect_uri")
	if redirect == "" && len(client.callbacks) > 0 {
		redirect = client.callbacks[0]
	}
	allowed := false
	for _, cb := range client.callbacks {
		if redirect == cb || strings.HasPrefix(redirect, strings.TrimSuffix(cb, "/")+"/") {
			allowed = true
		}
	}
	if !allowed {
		webPage(w, http.StatusBadRequest, "forgetest: redirect_uri is not one of the App's callback URLs")
		return
	}
	code := randomHex(10)
	web.mu.Lock()
	web.codes[code] = &oauthCode{client: q.Get("client_id"), login: login, redirect: redirect,
		challenge: q.Get("code_challenge"), expires: time.Now().Add(oauthCodeLifetime)}
	web.mu.Unlock()
	u, _ := url.Parse(redirect)
	uq := u.Query()
	uq.Set("code", code)
	if st := q.Get("state"); st != "" {
		uq.Set("state", st)
	}
	u.RawQuery = uq.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// webAccessToken serves POST /login/oauth/access_token. Like GitHub, it
// answers 200 with an "error" field when the exchange fails.
func (f *Forge) webAccessToken(w http.ResponseWriter, r *http.Request) {
	fail := func(code, desc string) {
		writeJSON(w, http.StatusOK, map[string]string{"error": code, "error_description": desc})
	}
	web := f.web()
	web.mu.Lock()
	client := web.clients[r.PostFormValue("client_id")]
	grant := web.codes[r.PostFormValue("code")]
	delete(web.codes, r.PostFormValue("code")) // single use, even when refused
	web.mu.Unlock()
	switch {
	case client == nil || r.PostFormValue("client_secret") != client.secret:
		fail("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.")
		return
	case grant == nil || grant.client != r.PostFormValue("client_id") || time.Now().After(grant.expires):
		fail("bad_verification_code", "The code passed is incorrect or expired.")
		return
	case r.PostFormValue("redirect_uri") != "" && r.PostFormValue("redirect_uri") != grant.redirect:
		fail("redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL for this application.")
		return
	case grant.challenge != "":
		sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
		if r.PostFormValue("code_verifier") == "" || base64.RawURLEncoding.EncodeToString(sum[:]) != grant.challenge {
			fail("bad_verification_code", "The code_verifier does not match the code_challenge.")
			return
		}
	}
	token := userTokenPrefix + randomHex(18)
	f.mu.Lock()
	f.tokens[token] = grant.login
	f.mu.Unlock()
	web.mu.Lock()
	web.users[token] = r.PostFormValue("client_id")
	web.mu.Unlock()
	out := map[string]string{"access_token": token, "token_type": "bearer", "scope": ""}
	if !strings.Contains(r.Header.Get("Accept"), "json") {
		v := url.Values{}
		for k, s := range out {
			v.Set(k, s)
		}
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
		fmt.Fprint(w, v.Encode())
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// userCaller authenticates a user-to-server token and returns the login and
// the App it was issued for.
func (f *Forge) userCaller(w http.ResponseWriter, r *http.Request) (login string, app int64, ok bool) {
	c, ok := f.githubAuth(w, r, true)
	if !ok {
		return "", 0, false
	}
	token, _ := githubToken(r)
	web := f.web()
	web.mu.Lock()
	client := web.clients[web.users[token]]
	web.mu.Unlock()
	if c.inst != nil || client == nil {
		githubError(w, http.StatusForbidden, "You must authenticate with an access token authorized to a GitHub App in order to list installations")
		return "", 0, false
	}
	return c.login, client.appID, true
}

// userRepos lists the repositories inst covers that login can see.
func (f *Forge) userRepos(login string, inst *appInstall) []string {
	var out []string
	for _, key := range f.repoKeys() {
		owner, name, _ := strings.Cut(key, "/")
		if inst.covers(owner, name) && f.permissionLevel(login, owner, name) != "none" {
			out = append(out, key)
		}
	}
	return out
}

// permissionLevel is GitHub's word for login's permission on owner/name.
func (f *Forge) permissionLevel(login, owner, name string) string {
	web := f.web()
	web.mu.Lock()
	admin := web.admins[login+" "+owner+"/"+name]
	web.mu.Unlock()
	switch {
	case admin:
		return "admin"
	case f.Permission(login, owner, name) >= Write:
		return "write"
	case f.Permission(login, owner, name) >= Read:
		return "read"
	}
	return "none"
}

// userInstall returns the installation of app login can see, or nil.
func (f *Forge) userInstall(login string, app, id int64) *appInstall {
	f.api.mu.Lock()
	inst := f.api.apps.installs[id]
	f.api.mu.Unlock()
	if inst == nil || inst.app.id != app || len(f.userRepos(login, inst)) == 0 {
		return nil
	}
	return inst
}

// webUserInstallations serves GET /user/installations.
func (f *Forge) webUserInstallations(w http.ResponseWriter, r *http.Request) {
	login, app, ok := f.userCaller(w, r)
	if !ok {
		return
	}
	f.api.mu.Lock()
	var ids []int64
	for id := range f.api.apps.installs {
		ids = append(ids, id)
	}
	f.api.mu.Unlock()
	out := []map[string]any{}
	for _, id := range sortedIDs(ids) {
		if inst := f.userInstall(login, app, id); inst != nil {
			out = append(out, f.githubInstallJSON(inst))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"total_count": len(out), "installations": out})
}

// webUserInstallationRepos serves GET /user/installations/{id}/repositories.
func (f *Forge) webUserInstallationRepos(w http.ResponseWriter, r *http.Request) {
	login, app, ok := f.userCaller(w, r)
	if !ok {
		return
	}
	var id int64
	fmt.Sscan(r.PathValue("installation_id"), &id)
	inst := f.userInstall(login, app, id)
	if inst == nil {
		githubError(w, http.StatusNotFound, githubNotFound)
		return
	}
	c := caller{login: login}
	out := []githubRepo{}
	for _, key := range f.userRepos(login, inst) {
		owner, name, _ := strings.Cut(key, "/")
		if st := f.repo(owner, name); st != nil {
			v := f.view(st)
			out = append(out, f.githubRepoJSON(&v, c))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"total_count": len(out), "repositories": out})
}

// webCollaboratorPermission serves GET /repos/{owner}/{repo}/collaborators/{username}/permission.
func (f *Forge) webCollaboratorPermission(w http.ResponseWriter, r *http.Request) {
	c, ok := f.githubAuth(w, r, true)
	if !ok {
		return
	}
	owner, name := r.PathValue("owner"), r.PathValue("repo")
	if f.repo(owner, name) == nil || f.access(c, owner, name) < Read {
		githubError(w, http.StatusNotFound, githubNotFound)
		return
	}
	user := r.PathValue("username")
	level := f.permissionLevel(user, owner, name)
	writeJSON(w, http.StatusOK, map[string]any{
		"permission": level, "role_name": level, "user": githubAccountJSONFor(f, user),
	})
}

// sortedIDs sorts ids ascending.
func sortedIDs(ids []int64) []int64 {
	for i := 1; i < len(ids); i++ {
		for j := i; j > 0 && ids[j] < ids[j-1]; j-- {
			ids[j], ids[j-1] = ids[j-1], ids[j]
		}
	}
	return ids
}
