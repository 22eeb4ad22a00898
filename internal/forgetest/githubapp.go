package forgetest

import (
	"cmp"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"maps"
	"math/big"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The fake GitHub App endpoints follow GitHub's REST documentation: the App
// authenticates with an RS256 JSON Web Token (JWT) signed by its private key
// (GET /app, /app/installations, .../access_tokens, .../installation), and
// acts with the installation tokens it mints there.

// Permissions are GitHub App permissions: a permission's name as GitHub
// spells it ("contents", "metadata", "checks", "statuses", "workflows",
// "administration", "pull_requests", ...) → "read", "write" or "admin".
type Permissions map[string]string

// DefaultPermissions are what [Forge.AddInstallation] grants unless
// [Forge.SetInstallationPermissions] says otherwise: contents write, metadata
// read, checks write; not workflows.
func DefaultPermissions() Permissions {
	return Permissions{"contents": "write", "metadata": "read", "checks": "write"}
}

// permRank orders permission levels; 0 for none or an unknown word.
func permRank(level string) int {
	switch level {
	case "read":
		return 1
	case "write":
		return 2
	case "admin":
		return 3
	}
	return 0
}

// allows reports whether p grants perm at level or above. nil (tokens from
// AddInstallationToken) allows everything.
func (p Permissions) allows(perm, level string) bool {
	return p == nil || permRank(p[perm]) >= permRank(level)
}

// GitHub App messages.
const (
	jwtUndecodable  = "A JSON web token could not be decoded"
	jwtBadIssuer    = "'Issuer' claim ('iss') must be an Integer"
	jwtBadIssuedAt  = "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
	jwtBadExpiry    = "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"
	jwtTooFar       = "'Expiration time' claim ('exp') is too far in the future"
	appNotFound     = "Integration not found"
	installSuspend  = "This installation has been suspended"
	mintBadRepos    = "There is at least one repository that does not exist or is not accessible to the parent installation."
	mintBadPerms    = "The permissions requested are not granted to this installation."
	jwtMaxLifetime  = 10 * time.Minute
	jwtIssuedAtSkew = time.Minute
	tokenLifetime   = time.Hour
)

// appEvents are the webhook events the fake Apps subscribe to.
var appEvents = []string{"create", "delete", "push", "repository"}

// appState is what the forge keeps about GitHub Apps; guarded by apiState.mu.
type appState struct {
	apps       map[int64]*ghApp
	installs   map[int64]*appInstall
	minted     []MintedToken
	requests   []TokenRequest // githubtokens.go
	tokens     tokenPolicy
	nextCheck  int64
	checkRuns  map[string][]*CheckRun // by "owner/name"
	nextStatus int64
	statuses   map[string][]*CommitStatus // by "owner/name"
}

func newAppState() appState {
	return appState{
		apps:      map[int64]*ghApp{},
		installs:  map[int64]*appInstall{},
		checkRuns: map[string][]*CheckRun{},
		statuses:  map[string][]*CommitStatus{},
		tokens:    tokenPolicy{scopes: TokenScopes()},
	}
}

type ghApp struct {
	id      int64
	slug    string
	key     *rsa.PublicKey
	created time.Time
}

// bot is the login of the App's bot account, as GitHub names it.
func (a *ghApp) bot() string { return a.slug + "[bot]" }

type appInstall struct {
	id        int64
	app       *ghApp
	account   string
	repos     map[string]bool // "account/name" or "account/*"
	perms     Permissions
	suspended time.Time // zero unless suspended
	created   time.Time
}

func (i *appInstall) covers(owner, name string) bool {
	return i.repos[owner+"/"+name] || i.repos[owner+"/*"]
}

// selection is GitHub's repository_selection of the installation.
func (i *appInstall) selection() string {
	for k := range i.repos {
		if strings.HasSuffix(k, "/*") {
			return "all"
		}
	}
	return "selected"
}

// keyPool holds RSA keys shared by every forge of the test binary: the nth
// App of a forge gets the nth key, so two Apps of one forge never share one
// and a 2048-bit key is generated only once per binary and position.
var keyPool struct {
	mu   sync.Mutex
	keys []*rsa.PrivateKey
}

func poolKey(i int) (*rsa.PrivateKey, error) {
	keyPool.mu.Lock()
	defer keyPool.mu.Unlock()
	for len(keyPool.keys) <= i {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		keyPool.keys = append(keyPool.keys, k)
	}
	return keyPool.keys[i], nil
}

// RegisterApp makes a GitHub App with id appID and slug (its bot is
// "<slug>[bot]"), and returns its private key in PEM (PKCS#1, as GitHub
// issues it). Keys are 2048-bit RSA, made once per test binary and reused by
// every forge (the nth App of each forge gets the nth key).
func (f *Forge) RegisterApp(appID int64, slug string) (privateKeyPEM []byte) {
	f.t.Helper()
	if appID <= 0 || !validName(slug) {
		f.t.Fatalf("forgetest: RegisterApp needs a positive id and a valid slug, not %d, %q", appID, slug)
	}
	a := f.api
	a.mu.Lock()
	_, taken := a.apps.apps[appID]
	n := len(a.apps.apps)
	a.mu.Unlock()
	if taken {
		f.t.Fatalf("forgetest: RegisterApp: App %d exists", appID)
	}
	key, err := poolKey(n)
	if err != nil {
		f.t.Fatalf("forgetest: RegisterApp: %v", err)
	}
	a.mu.Lock()
	a.apps.apps[appID] = &ghApp{id: appID, slug: slug, key: &key.PublicKey, created: time.Now().UTC()}
	a.mu.Unlock()
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
}

// AddInstallation installs App appID on account (a user or an organisation)
// as installation installationID, covering repos: "account/name" entries
// (GitHub's "Only select repositories"), or "account/*" for every repository
// of the account, present and future ("All repositories"). Its permissions
// are DefaultPermissions until SetInstallationPermissions.
func (f *Forge) AddInstallation(appID, installationID int64, account string, repos ...string) {
	f.t.Helper()
	if installationID <= 0 || !validName(account) {
		f.t.Fatalf("forgetest: AddInstallation needs a positive installation id and a valid account, not %d, %q", installationID, account)
	}
	set := f.installRepos("AddInstallation", account, repos)
	a := f.api
	a.mu.Lock()
	defer a.mu.Unlock()
	app := a.apps.apps[appID]
	if app == nil {
		f.t.Fatalf("forgetest: AddInstallation: no App %d (RegisterApp first)", appID)
	}
	if _, taken := a.apps.installs[installationID]; taken {
		f.t.Fatalf("forgetest: AddInstallation: installation %d exists", installationID)
	}
	if _, ok := a.accounts[account]; !ok {
		a.user(account)
	}
	a.apps.installs[installationID] = &appInstall{id: installationID, app: app, account: account,
		repos: set, perms: DefaultPermissions(), created: time.Now().UTC()}
}

// installRepos checks an installation's repository list.
func (f *Forge) installRepos(what, account string, repos []string) map[string]bool {
	f.t.Helper()
	set := map[string]bool{}
	for _, r := range repos {
		owner, name, ok := strings.Cut(r, "/")
		if !ok || owner != account || (name != "*" && !validName(name)) {
			f.t.Fatalf("forgetest: %s: %q is not %s/name or %s/*", what, r, account, account)
		}
		set[r] = true
	}
	return set
}

// appInstallation returns installation id, failing the test without it.
// a.mu is held.
func (f *Forge) appInstallation(what string, id int64) *appInstall {
	f.t.Helper()
	inst := f.api.apps.installs[id]
	if inst == nil {
		f.t.Fatalf("forgetest: %s: no installation %d", what, id)
	}
	return inst
}

// SetInstallationPermissions replaces the permissions the installation
// granted, e.g. to add {"workflows": "write"} or drop checks. Metadata read
// is always granted. Tokens minted before keep theirs.
func (f *Forge) SetInstallationPermissions(installationID int64, p Permissions) {
	f.t.Helper()
	perms := maps.Clone(p)
	if perms == nil {
		perms = Permissions{}
	}
	for k, v := range perms {
		if permRank(v) == 0 {
			f.t.Fatalf("forgetest: SetInstallationPermissions: %s: %q is not read, write or admin", k, v)
		}
	}
	if permRank(perms["metadata"]) == 0 {
		perms["metadata"] = "read"
	}
	f.api.mu.Lock()
	defer f.api.mu.Unlock()
	f.appInstallation("SetInstallationPermissions", installationID).perms = perms
}

// SetInstallationRepos replaces the repositories the installation covers,
// as after an installation_repositories event. Tokens minted before keep
// theirs.
func (f *Forge) SetInstallationRepos(installationID int64, repos ...string) {
	f.t.Helper()
	f.api.mu.Lock()
	account := f.appInstallation("SetInstallationRepos", installationID).account
	f.api.mu.Unlock()
	set := f.installRepos("SetInstallationRepos", account, repos)
	f.api.mu.Lock()
	defer f.api.mu.Unlock()
	f.appInstallation("SetInstallationRepos", installationID).repos = set
}

// SuspendInstallation suspends the installation (its tokens stop working
// and minting answers 403) or lifts the suspension.
func (f *Forge) SuspendInstallation(installationID int64, suspended bool) {
	f.t.Helper()
	f.api.mu.Lock()
	inst := f.appInstallation("SuspendInstallation", installationID)
	inst.suspended = time.Time{}
	if suspended {
		inst.suspended = time.Now().UTC()
	}
	f.api.mu.Unlock()
	if suspended {
		f.revokeInstallTokens(inst)
	}
}

// RemoveInstallation uninstalls the App: its tokens stop working and the
// installation is gone (404).
func (f *Forge) RemoveInstallation(installationID int64) {
	f.t.Helper()
	f.api.mu.Lock()
	inst := f.appInstallation("RemoveInstallation", installationID)
	delete(f.api.apps.installs, installationID)
	f.api.mu.Unlock()
	f.revokeInstallTokens(inst)
}

// revokeInstallTokens revokes every token minted for inst.
func (f *Forge) revokeInstallTokens(inst *appInstall) {
	var tokens []string
	f.api.mu.Lock()
	for token, ti := range f.api.installs {
		if ti.id == inst.id && ti.appID == inst.app.id {
			tokens = append(tokens, token)
			delete(f.api.installs, token)
		}
	}
	f.api.mu.Unlock()
	for _, token := range tokens {
		f.RevokeToken(token)
	}
}

// MintedToken is an installation token minted through
// POST /app/installations/{id}/access_tokens.
type MintedToken struct {
	Token          string
	AppID          int64
	InstallationID int64
	// Repositories are the "owner/name" the request narrowed the token to,
	// sorted; nil when it was not narrowed (every repository of the
	// installation).
	Repositories []string
	Permissions  Permissions
	ExpiresAt    time.Time
}

// MintedTokens returns the tokens minted so far, oldest first.
func (f *Forge) MintedTokens() []MintedToken {
	f.api.mu.Lock()
	defer f.api.mu.Unlock()
	out := slices.Clone(f.api.apps.minted)
	for i := range out {
		out[i].Repositories = slices.Clone(out[i].Repositories)
		out[i].Permissions = maps.Clone(out[i].Permissions)
	}
	return out
}

// githubAppAuth checks the request's JWT and returns its App, or answers
// 401 (404 for an App that does not exist) as GitHub does.
func (f *Forge) githubAppAuth(w http.ResponseWriter, r *http.Request) (*ghApp, bool) {
	githubHeaders(w)
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if h == "" {
		githubError(w, http.StatusUnauthorized, githubNeedsAuth)
		return nil, false
	}
	scheme, jwt, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "bearer") {
		githubError(w, http.StatusUnauthorized, jwtUndecodable)
		return nil, false
	}
	app, status, msg := f.verifyJWT(strings.TrimSpace(jwt), time.Now())
	if app == nil {
		githubError(w, status, msg)
		return nil, false
	}
	return app, true
}

// verifyJWT checks an App's JWT: RS256, signed by the App named by iss
// (a number or a string of digits), integer iat not in the future (a minute
// of clock skew allowed), integer exp in the future but at most ten minutes
// ahead.
func (f *Forge) verifyJWT(jwt string, now time.Time) (app *ghApp, status int, msg string) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return nil, http.StatusUnauthorized, jwtUndecodable
	}
	var header struct {
		Alg string `json:"alg"`
	}
	var claims map[string]json.RawMessage
	if !decodeSegment(parts[0], &header) || !decodeSegment(parts[1], &claims) || header.Alg != "RS256" {
		return nil, http.StatusUnauthorized, jwtUndecodable
	}
	iss, ok := intClaim(claims["iss"], true)
	if !ok {
		return nil, http.StatusUnauthorized, jwtBadIssuer
	}
	f.api.mu.Lock()
	app = f.api.apps.apps[iss]
	f.api.mu.Unlock()
	if app == nil {
		return nil, http.StatusNotFound, appNotFound
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, http.StatusUnauthorized, jwtUndecodable
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(app.key, crypto.SHA256, sum[:], sig) != nil {
		return nil, http.StatusUnauthorized, jwtUndecodable
	}
	iat, ok := intClaim(claims["iat"], false)
	if !ok || time.Unix(iat, 0).After(now.Add(jwtIssuedAtSkew)) {
		return nil, http.StatusUnauthorized, jwtBadIssuedAt
	}
	exp, ok := intClaim(claims["exp"], false)
	switch {
	case !ok || !time.Unix(exp, 0).After(now):
		return nil, http.StatusUnauthorized, jwtBadExpiry
	case time.Unix(exp, 0).After(now.Add(jwtMaxLifetime)):
		return nil, http.StatusUnauthorized, jwtTooFar
	}
	return app, 0, ""
}

// decodeSegment decodes one base64url JSON part of a JWT.
func decodeSegment(seg string, v any) bool {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	return err == nil && json.Unmarshal(b, v) == nil
}

// intClaim reads an integer claim; orString also accepts a string of
// digits (GitHub takes the App id either way).
func intClaim(raw json.RawMessage, orString bool) (int64, bool) {
	s := string(raw)
	if orString && len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// githubAppJSON is GitHub's App object.
func (f *Forge) githubAppJSON(app *ghApp) map[string]any {
	created := app.created.Format(githubTimeLayout)
	f.api.mu.Lock()
	n := 0
	for _, inst := range f.api.apps.installs {
		if inst.app == app {
			n++
		}
	}
	f.api.mu.Unlock()
	return map[string]any{
		"id": app.id, "slug": app.slug, "node_id": nodeID("A_kwDO", app.id),
		"client_id": fmt.Sprintf("Iv1.%016x", app.id),
		"owner":     f.githubAccountJSON(account{name: "forgetest", kind: orgAccount}),
		"name":      app.slug, "description": "", "external_url": f.BaseURL(),
		"html_url":   f.BaseURL() + "/apps/" + app.slug,
		"created_at": created, "updated_at": created,
		"permissions": DefaultPermissions(), "events": appEvents,
		"installations_count": n,
	}
}

// githubInstallJSON is GitHub's installation object. a.mu is not held.
func (f *Forge) githubInstallJSON(inst *appInstall) map[string]any {
	f.api.mu.Lock()
	acc := *f.api.user(inst.account)
	perms := maps.Clone(inst.perms)
	selection := inst.selection()
	var suspendedAt any
	if !inst.suspended.IsZero() {
		suspendedAt = inst.suspended.Format(githubTimeLayout)
	}
	f.api.mu.Unlock()
	api := strings.TrimSuffix(f.GitHubAPIURL(), "/")
	target := "User"
	htmlURL := fmt.Sprintf("%s/settings/installations/%d", f.BaseURL(), inst.id)
	if acc.kind != userAccount {
		target = "Organization"
		htmlURL = fmt.Sprintf("%s/organizations/%s/settings/installations/%d", f.BaseURL(), acc.name, inst.id)
	}
	created := inst.created.Format(githubTimeLayout)
	return map[string]any{
		"id": inst.id, "account": f.githubAccountJSON(acc), "repository_selection": selection,
		"access_tokens_url": fmt.Sprintf("%s/app/installations/%d/access_tokens", api, inst.id),
		"repositories_url":  api + "/installation/repositories", "html_url": htmlURL,
		"app_id": inst.app.id, "app_slug": inst.app.slug, "target_id": acc.id, "target_type": target,
		"permissions": perms, "events": appEvents, "created_at": created, "updated_at": created,
		"single_file_name": nil, "has_multiple_single_files": false, "single_file_paths": []string{},
		"suspended_by": nil, "suspended_at": suspendedAt,
	}
}

// githubGetApp serves GET /app.
func (f *Forge) githubGetApp(w http.ResponseWriter, r *http.Request) {
	if app, ok := f.githubAppAuth(w, r); ok {
		writeJSON(w, http.StatusOK, f.githubAppJSON(app))
	}
}

// appInstalls lists app's installations by id.
func (f *Forge) appInstalls(app *ghApp) []*appInstall {
	f.api.mu.Lock()
	defer f.api.mu.Unlock()
	var out []*appInstall
	for _, inst := range f.api.apps.installs {
		if inst.app == app {
			out = append(out, inst)
		}
	}
	slices.SortFunc(out, func(a, b *appInstall) int { return cmp.Compare(a.id, b.id) })
	return out
}

// githubListInstalls serves GET /app/installations, paginated.
func (f *Forge) githubListInstalls(w http.ResponseWriter, r *http.Request) {
	app, ok := f.githubAppAuth(w, r)
	if !ok {
		return
	}
	page, per := paging(r.URL.Query().Get, githubPerPage, githubMaxPerPage)
	items, pages := pageOf(f.appInstalls(app), page, per)
	if link := githubLink(strings.TrimSuffix(f.GitHubAPIURL(), "/")+"/app/installations", r.URL.RawQuery, page, pages); link != "" {
		w.Header().Set("Link", link)
	}
	out := make([]map[string]any, len(items))
	for i, inst := range items {
		out[i] = f.githubInstallJSON(inst)
	}
	writeJSON(w, http.StatusOK, out)
}

// installParam finds app's installation {installation_id}, or answers 404.
func (f *Forge) installParam(w http.ResponseWriter, r *http.Request, app *ghApp) *appInstall {
	id, err := strconv.ParseInt(r.PathValue("installation_id"), 10, 64)
	f.api.mu.Lock()
	inst := f.api.apps.installs[id]
	f.api.mu.Unlock()
	if err != nil || inst == nil || inst.app != app {
		githubError(w, http.StatusNotFound, githubNotFound)
		return nil
	}
	return inst
}

// githubGetInstall serves GET /app/installations/{installation_id}.
func (f *Forge) githubGetInstall(w http.ResponseWriter, r *http.Request) {
	app, ok := f.githubAppAuth(w, r)
	if !ok {
		return
	}
	if inst := f.installParam(w, r, app); inst != nil {
		writeJSON(w, http.StatusOK, f.githubInstallJSON(inst))
	}
}

// githubFindInstall serves GET /repos/{owner}/{repo}/installation,
// /orgs/{org}/installation and /users/{username}/installation: the App's
// installation on that repository or account, or 404.
func (f *Forge) githubFindInstall(w http.ResponseWriter, r *http.Request) {
	app, ok := f.githubAppAuth(w, r)
	if !ok {
		return
	}
	owner, repo := r.PathValue("owner"), r.PathValue("repo")
	if owner == "" {
		owner = r.PathValue("org") + r.PathValue("username")
	}
	for _, inst := range f.appInstalls(app) {
		if inst.account != owner {
			continue
		}
		if repo != "" && (!f.exists(owner, repo) || !inst.covers(owner, repo)) {
			continue
		}
		if r.PathValue("org") != "" {
			if acc, found := f.lookupAccount(owner); !found || acc.kind != orgAccount {
				continue
			}
		}
		writeJSON(w, http.StatusOK, f.githubInstallJSON(inst))
		return
	}
	githubError(w, http.StatusNotFound, githubNotFound)
}

// mintBody is the body of POST /app/installations/{id}/access_tokens.
type mintBody struct {
	Repositories  []string          `json:"repositories"`
	RepositoryIDs []int64           `json:"repository_ids"`
	Permissions   map[string]string `json:"permissions"`
}

// githubMintToken serves POST /app/installations/{installation_id}/access_tokens:
// a token valid for an hour with the installation's repositories and
// permissions, or fewer: "repositories" (names in the installation's
// account) and "repository_ids" narrow the repositories, "permissions" the
// permissions (metadata read always comes along). Asking for a repository or
// a permission the installation does not have is refused (422). The answer
// lists "repositories" only when the request narrowed them.
func (f *Forge) githubMintToken(w http.ResponseWriter, r *http.Request) {
	app, ok := f.githubAppAuth(w, r)
	if !ok {
		return
	}
	inst := f.installParam(w, r, app)
	if inst == nil {
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var body mintBody
	if s := strings.TrimSpace(string(raw)); err == nil && s != "" && s != "null" {
		err = json.Unmarshal(raw, &body)
	}
	if err != nil {
		githubError(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	f.api.mu.Lock()
	suspended := !inst.suspended.IsZero()
	account, instRepos, instPerms := inst.account, maps.Clone(inst.repos), maps.Clone(inst.perms)
	selection := inst.selection()
	tooWide := f.api.apps.tokens.tooWide(body)
	f.api.apps.requests = append(f.api.apps.requests, TokenRequest{InstallationID: inst.id,
		Repositories: slices.Clone(body.Repositories), RepositoryIDs: slices.Clone(body.RepositoryIDs),
		Permissions: maps.Clone(Permissions(body.Permissions)), Refused: tooWide})
	f.api.mu.Unlock()
	if tooWide != "" {
		f.t.Errorf("forgetest: a token request for installation %d %s", inst.id, tooWide)
		githubError(w, http.StatusUnprocessableEntity, "forgetest: this token request "+tooWide)
		return
	}
	if suspended {
		githubError(w, http.StatusForbidden, installSuspend)
		return
	}
	covered := func(owner, name string) bool {
		return f.exists(owner, name) && (instRepos[owner+"/"+name] || instRepos[owner+"/*"])
	}

	narrowed := len(body.Repositories) > 0 || len(body.RepositoryIDs) > 0
	scope := map[string]bool{}
	for _, name := range body.Repositories {
		if !validName(name) || !covered(account, name) {
			githubError(w, http.StatusUnprocessableEntity, mintBadRepos)
			return
		}
		scope[account+"/"+name] = true
	}
	for _, id := range body.RepositoryIDs {
		owner, name, found := f.repoByID(id)
		if !found || !covered(owner, name) {
			githubError(w, http.StatusUnprocessableEntity, mintBadRepos)
			return
		}
		scope[owner+"/"+name] = true
	}
	if !narrowed {
		scope = instRepos
	} else {
		selection = "selected"
	}

	perms := instPerms
	if len(body.Permissions) > 0 {
		perms = Permissions{}
		for k, v := range body.Permissions {
			if permRank(v) == 0 {
				githubValidation(w, "InstallationToken", "permissions", "invalid", fmt.Sprintf("%s: %q is not read, write or admin", k, v))
				return
			}
			if !instPerms.allows(k, v) {
				githubError(w, http.StatusUnprocessableEntity, mintBadPerms)
				return
			}
			perms[k] = v
		}
		if permRank(perms["metadata"]) == 0 {
			perms["metadata"] = "read"
		}
	}

	token, err := newInstallToken()
	if err != nil {
		githubError(w, http.StatusInternalServerError, err.Error())
		return
	}
	expires := time.Now().Add(tokenLifetime).UTC().Truncate(time.Second)
	ti := &installation{id: inst.id, login: app.bot(), repos: scope, appID: app.id, perms: perms, expires: expires}
	if err := f.addInstallToken(token, ti); err != nil {
		githubError(w, http.StatusInternalServerError, err.Error())
		return
	}
	m := MintedToken{Token: token, AppID: app.id, InstallationID: inst.id, Permissions: maps.Clone(perms), ExpiresAt: expires}
	out := map[string]any{
		"token": token, "expires_at": expires.Format(githubTimeLayout),
		"permissions": perms, "repository_selection": selection,
	}
	if narrowed {
		m.Repositories = slices.Sorted(maps.Keys(scope))
		repos := []githubRepo{}
		for _, key := range m.Repositories {
			owner, name, _ := strings.Cut(key, "/")
			if st := f.repo(owner, name); st != nil {
				v := f.view(st)
				repos = append(repos, f.githubRepoJSON(&v, caller{inst: ti}))
			}
		}
		out["repositories"] = repos
	}
	f.api.mu.Lock()
	f.api.apps.minted = append(f.api.apps.minted, m)
	f.api.mu.Unlock()
	writeJSON(w, http.StatusCreated, out)
}

// tokenAlphabet is what GitHub's tokens are made of after their prefix.
const tokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// newInstallToken makes a random "ghs_" token.
func newInstallToken() (string, error) {
	b := []byte("ghs_")
	max := big.NewInt(int64(len(tokenAlphabet)))
	for range 36 {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", err
		}
		b = append(b, tokenAlphabet[n.Int64()])
	}
	return string(b), nil
}

// repoByID finds a repository by its API id. Ids are given when the APIs
// first see a repository, so one with an id has its state already: a scan
// of those, not of every repository on disk (a benchmark mints tokens for
// 10,000 of them).
func (f *Forge) repoByID(id int64) (owner, name string, ok bool) {
	f.api.mu.Lock()
	var found *repoState
	for _, st := range f.api.repos {
		if st.id == id {
			found = st
			break
		}
	}
	f.api.mu.Unlock()
	if found == nil || !f.exists(found.owner, found.name) {
		return "", "", false
	}
	return found.owner, found.name, true
}

// githubRevokeToken serves DELETE /installation/token: an installation
// token revokes itself (204).
func (f *Forge) githubRevokeToken(w http.ResponseWriter, r *http.Request) {
	c, ok := f.githubAuth(w, r, true)
	if !ok {
		return
	}
	if c.inst == nil {
		githubError(w, http.StatusForbidden, "You must authenticate with an installation access token in order to revoke it.")
		return
	}
	token, _ := githubToken(r)
	f.api.mu.Lock()
	delete(f.api.installs, token)
	f.api.mu.Unlock()
	f.RevokeToken(token)
	w.WriteHeader(http.StatusNoContent)
}
