package forgetest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The fake GitHub REST API follows GitHub's documented shapes: tokens in
// "Authorization: token X" or "Bearer X" (or basic auth with the token as
// password), anonymous requests for public data, errors as {"message",
// "documentation_url", "status"}, pagination with per_page (default 30, at
// most 100), page and RFC 5988 Link headers.

// GitHub error messages and documentation links.
const (
	githubDocs            = "https://docs.github.com/rest"
	githubBadCredentials  = "Bad credentials"
	githubNeedsAuth       = "Requires authentication"
	githubNotFound        = "Not Found"
	githubNotIntegrations = "Resource not accessible by integration"
	githubNeedsAdmin      = "Must have admin rights to Repository."
	githubTimeLayout      = "2006-01-02T15:04:05Z"
)

// githubMux routes the GitHub API paths, without the /api/v3 prefix.
func (f *Forge) githubMux() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("GET /user", f.githubGetUser)
	m.HandleFunc("GET /users/{username}", f.githubGetAccount(false))
	m.HandleFunc("GET /orgs/{org}", f.githubGetAccount(true))
	m.HandleFunc("GET /repos/{owner}/{repo}", f.githubGetRepo)
	m.HandleFunc("PATCH /repos/{owner}/{repo}", f.githubPatchRepo)
	m.HandleFunc("GET /orgs/{org}/repos", f.githubListOrg)
	m.HandleFunc("GET /organizations/{id}/repos", f.githubListOrg)
	m.HandleFunc("GET /users/{username}/repos", f.githubListUser)
	m.HandleFunc("GET /user/{id}/repos", f.githubListUser)
	m.HandleFunc("GET /user/repos", f.githubListOwn)
	m.HandleFunc("GET /installation/repositories", f.githubListInstallation)
	m.HandleFunc("POST /user/repos", f.githubCreate(false))
	m.HandleFunc("POST /orgs/{org}/repos", f.githubCreate(true))
	// GitHub Apps: githubapp.go, githubcontents.go, githubchecks.go.
	m.HandleFunc("GET /app", f.githubGetApp)
	m.HandleFunc("GET /app/installations", f.githubListInstalls)
	m.HandleFunc("GET /app/installations/{installation_id}", f.githubGetInstall)
	m.HandleFunc("POST /app/installations/{installation_id}/access_tokens", f.githubMintToken)
	m.HandleFunc("GET /repos/{owner}/{repo}/installation", f.githubFindInstall)
	m.HandleFunc("GET /orgs/{org}/installation", f.githubFindInstall)
	m.HandleFunc("GET /users/{username}/installation", f.githubFindInstall)
	m.HandleFunc("DELETE /installation/token", f.githubRevokeToken)
	m.HandleFunc("GET /repos/{owner}/{repo}/contents", f.githubContents)
	m.HandleFunc("GET /repos/{owner}/{repo}/contents/{path...}", f.githubContents)
	m.HandleFunc("POST /repos/{owner}/{repo}/check-runs", f.githubCreateCheckRun)
	m.HandleFunc("GET /repos/{owner}/{repo}/check-runs/{id}", f.githubGetCheckRun)
	m.HandleFunc("PATCH /repos/{owner}/{repo}/check-runs/{id}", f.githubUpdateCheckRun)
	m.HandleFunc("POST /repos/{owner}/{repo}/statuses/{sha}", f.githubCreateStatus)
	// A ref may hold slashes: the last route takes those; the others name
	// the common case in APIStats.
	m.HandleFunc("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", f.githubCommitSub)
	m.HandleFunc("GET /repos/{owner}/{repo}/commits/{ref}/statuses", f.githubCommitSub)
	m.HandleFunc("GET /repos/{owner}/{repo}/commits/{ref}/status", f.githubCommitSub)
	m.HandleFunc("GET /repos/{owner}/{repo}/commits/{rest...}", f.githubCommitSub)
	f.githubReleaseRoutes(m) // githubreleases.go
	m.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		githubError(w, http.StatusNotFound, githubNotFound)
	})
	return m
}

// githubError answers GitHub's error object.
func githubError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{
		"message": msg, "documentation_url": githubDocs, "status": strconv.Itoa(status),
	})
}

// githubHeaders sets the headers every GitHub answer carries. The rate
// limit never runs out here.
func githubHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	h.Set("X-RateLimit-Limit", "5000")
	h.Set("X-RateLimit-Remaining", "4999")
	h.Set("X-RateLimit-Used", "1")
	h.Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
}

// githubToken reads the token of a request; present is false without an
// Authorization header.
func githubToken(r *http.Request) (token string, present bool) {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if h == "" {
		return "", false
	}
	scheme, rest, _ := strings.Cut(h, " ")
	rest = strings.TrimSpace(rest)
	switch strings.ToLower(scheme) {
	case "token", "bearer":
		return rest, true
	case "basic":
		if b, err := base64.StdEncoding.DecodeString(rest); err == nil {
			_, pass, _ := strings.Cut(string(b), ":")
			return pass, true
		}
	}
	return "", true
}

// githubAuth finds the caller. A token that does not exist is refused
// (401 Bad credentials); no token at all makes an anonymous caller, refused
// (401 Requires authentication) only when needAuth.
func (f *Forge) githubAuth(w http.ResponseWriter, r *http.Request, needAuth bool) (caller, bool) {
	githubHeaders(w)
	token, present := githubToken(r)
	if !present {
		if needAuth {
			githubError(w, http.StatusUnauthorized, githubNeedsAuth)
			return caller{}, false
		}
		return caller{}, true
	}
	login, ok := f.Login(token)
	if !ok || token == "" {
		githubError(w, http.StatusUnauthorized, githubBadCredentials)
		return caller{}, false
	}
	a := f.api
	a.mu.Lock()
	defer a.mu.Unlock()
	if inst, ok := a.installs[token]; ok && inst.login == login {
		return caller{inst: inst}, true
	}
	a.user(login)
	return caller{login: login}, true
}

type githubAccount struct {
	Login     string `json:"login"`
	ID        int64  `json:"id"`
	NodeID    string `json:"node_id"`
	AvatarURL string `json:"avatar_url"`
	URL       string `json:"url"`
	HTMLURL   string `json:"html_url"`
	ReposURL  string `json:"repos_url"`
	Type      string `json:"type"`
	SiteAdmin bool   `json:"site_admin"`
}

func (f *Forge) githubAccountJSON(acc account) githubAccount {
	typ, prefix := "User", "U_kgDO"
	if acc.kind != userAccount {
		typ, prefix = "Organization", "O_kgDO"
	}
	api := strings.TrimSuffix(f.GitHubAPIURL(), "/")
	return githubAccount{Login: acc.name, ID: acc.id, NodeID: nodeID(prefix, acc.id),
		AvatarURL: f.BaseURL() + "/avatars/" + acc.name, URL: api + "/users/" + acc.name,
		HTMLURL: f.BaseURL() + "/" + acc.name, ReposURL: api + "/users/" + acc.name + "/repos", Type: typ}
}

// nodeID makes a GraphQL-style node id.
func nodeID(prefix string, id int64) string {
	return prefix + base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(id, 10)))
}

// githubGetUser serves GET /user; installation tokens have no user (403).
func (f *Forge) githubGetUser(w http.ResponseWriter, r *http.Request) {
	c, ok := f.githubAuth(w, r, true)
	if !ok {
		return
	}
	if c.inst != nil {
		githubError(w, http.StatusForbidden, githubNotIntegrations)
		return
	}
	acc, _ := f.lookupAccount(c.login)
	writeJSON(w, http.StatusOK, struct {
		githubAccount
		Name      string `json:"name"`
		CreatedAt string `json:"created_at"`
	}{f.githubAccountJSON(acc), acc.name, acc.created.Format(githubTimeLayout)})
}

// githubGetAccount serves GET /users/{username} (users and organisations,
// told apart by "type") and GET /orgs/{org} (organisations only).
// Enterprises are not GitHub accounts: 404.
func (f *Forge) githubGetAccount(orgOnly bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, ok := f.githubAuth(w, r, false); !ok {
			return
		}
		name := r.PathValue("username")
		if orgOnly {
			name = r.PathValue("org")
		}
		acc, found := f.lookupAccount(name)
		if !found || acc.kind == enterpriseAccount || (orgOnly && acc.kind != orgAccount) {
			githubError(w, http.StatusNotFound, githubNotFound)
			return
		}
		writeJSON(w, http.StatusOK, f.githubAccountJSON(acc))
	}
}

type githubPermissions struct {
	Admin bool `json:"admin"`
	Push  bool `json:"push"`
	Pull  bool `json:"pull"`
}

// githubRepo is GitHub's repository object, the fields that matter here.
type githubRepo struct {
	ID            int64              `json:"id"`
	NodeID        string             `json:"node_id"`
	Name          string             `json:"name"`
	FullName      string             `json:"full_name"`
	Private       bool               `json:"private"`
	Owner         githubAccount      `json:"owner"`
	HTMLURL       string             `json:"html_url"`
	Description   *string            `json:"description"`
	Fork          bool               `json:"fork"`
	URL           string             `json:"url"`
	HooksURL      string             `json:"hooks_url"`
	GitURL        string             `json:"git_url"`
	SSHURL        string             `json:"ssh_url"`
	CloneURL      string             `json:"clone_url"`
	Homepage      *string            `json:"homepage"`
	Size          int64              `json:"size"`
	DefaultBranch string             `json:"default_branch"`
	Visibility    string             `json:"visibility"`
	Archived      bool               `json:"archived"`
	Disabled      bool               `json:"disabled"`
	PushedAt      *string            `json:"pushed_at"`
	CreatedAt     string             `json:"created_at"`
	UpdatedAt     string             `json:"updated_at"`
	Permissions   *githubPermissions `json:"permissions,omitempty"`
}

func (f *Forge) githubRepoJSON(v *repoView, c caller) githubRepo {
	full := v.owner + "/" + v.name
	host := f.sshHost()
	owner := f.githubAccountJSON(account{id: v.ownerID, name: v.owner, kind: v.ownerKind})
	api := strings.TrimSuffix(f.GitHubAPIURL(), "/")
	vis := "public"
	switch {
	case v.meta.Internal:
		vis = "internal"
	case v.meta.Private:
		vis = "private"
	}
	created := v.created.Format(githubTimeLayout)
	out := githubRepo{
		ID: v.id, NodeID: nodeID("R_kgDO", v.id), Name: v.name, FullName: full,
		Private: v.meta.Private, Owner: owner, HTMLURL: f.BaseURL() + "/" + full,
		Fork: v.meta.Fork, URL: api + "/repos/" + full, HooksURL: api + "/repos/" + full + "/hooks",
		GitURL: "git://" + host + "/" + full + ".git", SSHURL: "git@" + host + ":" + full + ".git",
		CloneURL: f.GitURL(v.owner, v.name), Size: v.sizeKB, DefaultBranch: v.meta.DefaultBranch,
		Visibility: vis, Archived: v.meta.Archived, CreatedAt: created, UpdatedAt: created,
	}
	if v.meta.Description != "" {
		out.Description = &v.meta.Description
	}
	if v.meta.Homepage != "" {
		out.Homepage = &v.meta.Homepage
	}
	if !v.empty {
		out.PushedAt = &created
	}
	if c.login != "" || c.inst != nil {
		acc := f.access(c, v.owner, v.name)
		out.Permissions = &githubPermissions{Admin: acc >= Write, Push: acc >= Write, Pull: acc >= Read || !v.meta.Private}
	}
	return out
}

// githubRepoFor finds the request's {owner}/{repo} if c may see it, or
// answers 404.
func (f *Forge) githubRepoFor(w http.ResponseWriter, r *http.Request, c caller) (*repoState, repoView, bool) {
	st := f.repo(r.PathValue("owner"), r.PathValue("repo"))
	if st != nil {
		if v := f.view(st); f.visible(c, &v) {
			return st, v, true
		}
	}
	githubError(w, http.StatusNotFound, githubNotFound)
	return nil, repoView{}, false
}

// githubGetRepo serves GET /repos/{owner}/{repo}.
func (f *Forge) githubGetRepo(w http.ResponseWriter, r *http.Request) {
	c, ok := f.githubAuth(w, r, false)
	if !ok {
		return
	}
	if _, v, ok := f.githubRepoFor(w, r, c); ok {
		writeJSON(w, http.StatusOK, f.githubRepoJSON(&v, c))
	}
}

// githubPatch is the body of PATCH /repos/{owner}/{repo}.
type githubPatch struct {
	Name          *string `json:"name"`
	Description   *string `json:"description"`
	Homepage      *string `json:"homepage"`
	Private       *bool   `json:"private"`
	Visibility    *string `json:"visibility"`
	DefaultBranch *string `json:"default_branch"`
	Archived      *bool   `json:"archived"`
}

// githubPatchRepo serves PATCH /repos/{owner}/{repo}: description,
// homepage, private or visibility, default_branch (which must exist: 422)
// and archived. An archived repository takes no change but unarchiving
// (403). Renaming is refused (422): forgetest does not move repositories.
func (f *Forge) githubPatchRepo(w http.ResponseWriter, r *http.Request) {
	c, ok := f.githubAuth(w, r, true)
	if !ok {
		return
	}
	st, v, ok := f.githubRepoFor(w, r, c)
	if !ok {
		return
	}
	if f.access(c, v.owner, v.name) < Write || (c.inst != nil && !c.inst.perms.allows("administration", "write")) {
		msg := githubNeedsAdmin
		if c.inst != nil {
			msg = githubNotIntegrations
		}
		githubError(w, http.StatusForbidden, msg)
		return
	}
	var p githubPatch
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		githubError(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	if v.meta.Archived && (p.Archived == nil || *p.Archived || p.Description != nil || p.Homepage != nil ||
		p.Private != nil || p.Visibility != nil || p.DefaultBranch != nil) {
		githubError(w, http.StatusForbidden, "Repository was archived so is read-only.")
		return
	}
	if p.Name != nil && *p.Name != v.name {
		githubValidation(w, "Repository", "name", "invalid", "forgetest cannot rename repositories")
		return
	}
	if p.Visibility != nil && *p.Visibility != "public" && *p.Visibility != "private" &&
		(*p.Visibility != "internal" || v.ownerKind != orgAccount) {
		githubValidation(w, "Repository", "visibility", "invalid", "visibility must be public or private")
		return
	}
	if b := p.DefaultBranch; b != nil && *b != v.meta.DefaultBranch {
		if !hasBranch(listBranches(f.RepoPath(v.owner, v.name)), *b) {
			githubValidation(w, "Repository", "default_branch", "invalid", fmt.Sprintf("The branch %s was not found. Please push that ref first or create it via the Git Data API.", *b))
			return
		}
		if err := f.setHead(v.owner, v.name, *b); err != nil {
			githubError(w, http.StatusInternalServerError, err.Error())
			return
		}
	}
	if p.Archived != nil && *p.Archived != v.meta.Archived {
		if err := f.setArchived(v.owner, v.name, *p.Archived); err != nil {
			githubError(w, http.StatusInternalServerError, err.Error())
			return
		}
	}
	f.api.mu.Lock()
	m := &st.meta
	if p.Description != nil {
		m.Description = *p.Description
	}
	if p.Homepage != nil {
		m.Homepage = *p.Homepage
	}
	if p.Private != nil {
		m.Private, m.Internal = *p.Private, false
	}
	if p.Visibility != nil {
		m.Private, m.Internal = *p.Visibility != "public", *p.Visibility == "internal"
	}
	if p.Archived != nil {
		m.Archived = *p.Archived
	}
	if p.DefaultBranch != nil {
		st.firstPush = false
	}
	f.api.mu.Unlock()
	v = f.view(st)
	writeJSON(w, http.StatusOK, f.githubRepoJSON(&v, c))
}

// githubValidation answers 422 Validation Failed with one field error.
func githubValidation(w http.ResponseWriter, resource, field, code, msg string) {
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
		"message":           "Validation Failed",
		"errors":            []map[string]string{{"resource": resource, "code": code, "field": field, "message": msg}},
		"documentation_url": githubDocs, "status": "422",
	})
}
