package forgetest

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// The fake Gitee OpenAPI v5 follows Gitee's documented shapes: the token is
// the access_token parameter (query, form or JSON body), lists take page and
// per_page (default 20, at most 100) and answer total_count and total_page
// headers, errors are {"message": ...}. Public data can be read without a
// token, as on gitee.com; a token that does not exist is refused everywhere.

// Gitee error messages.
const (
	giteeNoToken     = "401 Unauthorized: Access token does not exist"
	giteeForbidden   = "403 Forbidden"
	giteeNotFound    = "404 Not Found"
	giteeNoProject   = "Not Found Project"
	giteeRepoTaken   = "仓库路径已存在 (repository path has already been taken)"
	giteeTimeLayout  = "2006-01-02T15:04:05-07:00"
	giteeStatusOpen  = "开始"
	giteeStatusClose = "关闭"
)

// giteeMux routes the Gitee API paths, without the /api/v5 prefix.
func (f *Forge) giteeMux() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("GET /user", f.giteeGetUser)
	m.HandleFunc("GET /users/{username}", f.giteeGetAccount(userAccount, "username"))
	m.HandleFunc("GET /orgs/{org}", f.giteeGetAccount(orgAccount, "org"))
	m.HandleFunc("GET /enterprises/{enterprise}", f.giteeGetAccount(enterpriseAccount, "enterprise"))
	m.HandleFunc("GET /repos/{owner}/{repo}", f.giteeGetRepo)
	m.HandleFunc("PATCH /repos/{owner}/{repo}", f.giteePatchRepo)
	m.HandleFunc("GET /user/repos", f.giteeListOwn)
	m.HandleFunc("GET /users/{username}/repos", f.giteeListUser)
	m.HandleFunc("GET /orgs/{org}/repos", f.giteeListNamespace(orgAccount, "org"))
	m.HandleFunc("GET /enterprises/{enterprise}/repos", f.giteeListNamespace(enterpriseAccount, "enterprise"))
	m.HandleFunc("POST /user/repos", f.giteeCreate(userAccount, ""))
	m.HandleFunc("POST /orgs/{org}/repos", f.giteeCreate(orgAccount, "org"))
	m.HandleFunc("POST /enterprises/{enterprise}/repos", f.giteeCreate(enterpriseAccount, "enterprise"))
	m.HandleFunc("GET /repos/{owner}/{repo}/hooks", f.giteeListHooks)
	m.HandleFunc("POST /repos/{owner}/{repo}/hooks", f.giteeCreateHook)
	m.HandleFunc("GET /repos/{owner}/{repo}/hooks/{id}", f.giteeGetHook)
	m.HandleFunc("PATCH /repos/{owner}/{repo}/hooks/{id}", f.giteePatchHook)
	m.HandleFunc("DELETE /repos/{owner}/{repo}/hooks/{id}", f.giteeDeleteHook)
	m.HandleFunc("POST /repos/{owner}/{repo}/hooks/{id}/tests", f.giteeTestHook)
	f.giteeReleaseRoutes(m) // giteereleases.go
	m.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { giteeError(w, http.StatusNotFound, giteeNotFound) })
	return m
}

func giteeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg})
}

// giteeParams merges the query with a form or JSON body, as Gitee's API
// reads parameters from either. JSON values become their text.
func giteeParams(r *http.Request) (url.Values, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		p := r.URL.Query()
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			return nil, err
		}
		for k, v := range body {
			switch t := v.(type) {
			case string:
				p.Set(k, t)
			case nil:
			default:
				b, _ := json.Marshal(t)
				p.Set(k, string(b))
			}
		}
		return p, nil
	case "multipart/form-data":
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			return nil, err
		}
		return r.Form, nil
	}
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	return r.Form, nil
}

// giteeAuth reads the parameters and the caller. A token that does not exist
// is refused (401); no token at all is refused only when needUser. It writes
// the refusal itself and returns ok=false.
func (f *Forge) giteeAuth(w http.ResponseWriter, r *http.Request, needUser bool) (c caller, p url.Values, ok bool) {
	p, err := giteeParams(r)
	if err != nil {
		giteeError(w, http.StatusBadRequest, "400 Bad Request: "+err.Error())
		return caller{}, nil, false
	}
	token := p.Get("access_token")
	if token == "" && !needUser {
		return caller{}, p, true
	}
	login, valid := f.Login(token)
	f.api.mu.Lock()
	_, isInstall := f.api.installs[token]
	if valid && !isInstall {
		f.api.user(login)
	}
	f.api.mu.Unlock()
	if token == "" || !valid || isInstall {
		giteeError(w, http.StatusUnauthorized, giteeNoToken)
		return caller{}, nil, false
	}
	return caller{login: login}, p, true
}

type giteeUser struct {
	ID        int64  `json:"id"`
	Login     string `json:"login"`
	Name      string `json:"name"`
	AvatarURL string `json:"avatar_url"`
	URL       string `json:"url"`
	HTMLURL   string `json:"html_url"`
	Remark    string `json:"remark"`
	Type      string `json:"type"`
}

func (f *Forge) giteeUserJSON(acc account) giteeUser {
	return giteeUser{ID: acc.id, Login: acc.name, Name: acc.name,
		AvatarURL: f.BaseURL() + "/assets/no_portrait.png",
		URL:       f.GiteeAPIURL() + "/users/" + acc.name,
		HTMLURL:   f.BaseURL() + "/" + acc.name, Type: "User"}
}

// giteeGetUser serves GET /user: the token's account.
func (f *Forge) giteeGetUser(w http.ResponseWriter, r *http.Request) {
	c, _, ok := f.giteeAuth(w, r, true)
	if !ok {
		return
	}
	acc, _ := f.lookupAccount(c.login)
	writeJSON(w, http.StatusOK, struct {
		giteeUser
		CreatedAt string `json:"created_at"`
	}{f.giteeUserJSON(acc), acc.created.Format(giteeTimeLayout)})
}

// giteeGetAccount serves GET /users/{username}, /orgs/{org} and
// /enterprises/{enterprise}: 404 unless the account is of that kind.
func (f *Forge) giteeGetAccount(kind accountKind, param string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, _, ok := f.giteeAuth(w, r, false); !ok {
			return
		}
		acc, found := f.lookupAccount(r.PathValue(param))
		if !found || acc.kind != kind {
			giteeError(w, http.StatusNotFound, giteeNotFound)
			return
		}
		switch kind {
		case userAccount:
			writeJSON(w, http.StatusOK, f.giteeUserJSON(acc))
		case orgAccount:
			writeJSON(w, http.StatusOK, map[string]any{
				"id": acc.id, "login": acc.name, "name": acc.name,
				"url":         f.GiteeAPIURL() + "/orgs/" + acc.name,
				"avatar_url":  f.BaseURL() + "/assets/no_portrait.png",
				"repos_url":   f.GiteeAPIURL() + "/orgs/" + acc.name + "/repos",
				"description": "", "follow_count": 0,
			})
		default:
			writeJSON(w, http.StatusOK, map[string]any{
				"id": acc.id, "path": acc.name, "name": acc.name,
				"url":        f.GiteeAPIURL() + "/enterprises/" + acc.name,
				"avatar_url": f.BaseURL() + "/assets/no_portrait.png",
				"html_url":   f.BaseURL() + "/" + acc.name, "description": "",
			})
		}
	}
}

type giteeNamespace struct {
	ID      int64  `json:"id"`
	Type    string `json:"type"` // personal, group or enterprise
	Name    string `json:"name"`
	Path    string `json:"path"`
	HTMLURL string `json:"html_url"`
}

type giteePermission struct {
	Pull  bool `json:"pull"`
	Push  bool `json:"push"`
	Admin bool `json:"admin"`
}

// giteeRepo is Gitee's repository ("Project") object, the fields that
// matter here.
type giteeRepo struct {
	ID            int64           `json:"id"`
	FullName      string          `json:"full_name"`
	HumanName     string          `json:"human_name"`
	URL           string          `json:"url"`
	Namespace     giteeNamespace  `json:"namespace"`
	Path          string          `json:"path"`
	Name          string          `json:"name"`
	Owner         giteeUser       `json:"owner"`
	Description   string          `json:"description"`
	Private       bool            `json:"private"`
	Public        bool            `json:"public"`
	Internal      bool            `json:"internal"`
	Fork          bool            `json:"fork"`
	HTMLURL       string          `json:"html_url"`
	SSHURL        string          `json:"ssh_url"`
	Homepage      *string         `json:"homepage"`
	DefaultBranch string          `json:"default_branch"`
	Status        string          `json:"status"`
	Permission    giteePermission `json:"permission"`
	PushedAt      string          `json:"pushed_at"`
	CreatedAt     string          `json:"created_at"`
	UpdatedAt     string          `json:"updated_at"`
}

func (f *Forge) giteeRepoJSON(v *repoView, c caller) giteeRepo {
	full := v.owner + "/" + v.name
	display := v.display
	if display == "" {
		display = v.name
	}
	ns := giteeNamespace{ID: v.ownerID, Type: "personal", Name: v.owner, Path: v.owner, HTMLURL: f.BaseURL() + "/" + v.owner}
	switch v.ownerKind {
	case orgAccount:
		ns.Type = "group"
	case enterpriseAccount:
		ns.Type = "enterprise"
	}
	ownerLogin := v.creator
	if ownerLogin == "" {
		ownerLogin = v.owner
	}
	owner, _ := f.lookupAccount(ownerLogin)
	if owner.name == "" {
		owner = account{name: ownerLogin}
	}
	host := f.sshHost()
	acc := f.access(c, v.owner, v.name)
	status := giteeStatusOpen
	if v.meta.Archived {
		status = giteeStatusClose
	}
	out := giteeRepo{
		ID: v.id, FullName: full, HumanName: ns.Name + "/" + display,
		URL: f.GiteeAPIURL() + "/repos/" + full, Namespace: ns,
		Path: v.name, Name: display, Owner: f.giteeUserJSON(owner),
		Description: v.meta.Description,
		Private:     v.meta.Private && !v.meta.Internal, Public: !v.meta.Private, Internal: v.meta.Internal,
		Fork: v.meta.Fork, HTMLURL: f.BaseURL() + "/" + full + ".git",
		SSHURL: "git@" + host + ":" + full + ".git", DefaultBranch: v.meta.DefaultBranch,
		Status:     status,
		Permission: giteePermission{Pull: acc >= Read || !v.meta.Private, Push: acc >= Write, Admin: acc >= Write},
		PushedAt:   v.created.Format(giteeTimeLayout), CreatedAt: v.created.Format(giteeTimeLayout),
		UpdatedAt: v.created.Format(giteeTimeLayout),
	}
	if v.meta.Homepage != "" {
		out.Homepage = &v.meta.Homepage
	}
	return out
}

// giteeRepoFor finds the repository of the request's {owner}/{repo} that c
// may see, or answers 404 Not Found Project.
func (f *Forge) giteeRepoFor(w http.ResponseWriter, r *http.Request, c caller) (*repoState, repoView, bool) {
	st := f.repo(r.PathValue("owner"), r.PathValue("repo"))
	if st == nil {
		giteeError(w, http.StatusNotFound, giteeNoProject)
		return nil, repoView{}, false
	}
	v := f.view(st)
	if !f.visible(c, &v) {
		giteeError(w, http.StatusNotFound, giteeNoProject)
		return nil, repoView{}, false
	}
	return st, v, true
}

// giteeGetRepo serves GET /repos/{owner}/{repo}.
func (f *Forge) giteeGetRepo(w http.ResponseWriter, r *http.Request) {
	c, _, ok := f.giteeAuth(w, r, false)
	if !ok {
		return
	}
	if _, v, ok := f.giteeRepoFor(w, r, c); ok {
		writeJSON(w, http.StatusOK, f.giteeRepoJSON(&v, c))
	}
}

// giteePatchRepo serves PATCH /repos/{owner}/{repo}: name (the display name,
// required as Gitee documents), description, homepage, private and
// default_branch (which must exist). A path different from the current one
// is refused: forgetest does not move repositories.
func (f *Forge) giteePatchRepo(w http.ResponseWriter, r *http.Request) {
	c, p, ok := f.giteeAuth(w, r, true)
	if !ok {
		return
	}
	st, v, ok := f.giteeRepoFor(w, r, c)
	if !ok {
		return
	}
	if f.access(c, v.owner, v.name) < Write {
		giteeError(w, http.StatusForbidden, giteeForbidden)
		return
	}
	name := strings.TrimSpace(p.Get("name"))
	if name == "" {
		giteeError(w, http.StatusBadRequest, "name is missing")
		return
	}
	if path := p.Get("path"); path != "" && path != v.name {
		giteeError(w, http.StatusBadRequest, "path: forgetest cannot change a repository's path")
		return
	}
	if b := p.Get("default_branch"); b != "" && b != v.meta.DefaultBranch {
		if !hasBranch(listBranches(f.RepoPath(v.owner, v.name)), b) {
			giteeError(w, http.StatusBadRequest, fmt.Sprintf("default_branch: branch %s does not exist", b))
			return
		}
		if err := f.setHead(v.owner, v.name, b); err != nil {
			giteeError(w, http.StatusInternalServerError, err.Error())
			return
		}
	}
	f.api.mu.Lock()
	st.display = name
	if p.Has("description") {
		st.meta.Description = p.Get("description")
	}
	if p.Has("homepage") {
		st.meta.Homepage = p.Get("homepage")
	}
	if priv, ok := boolParam(p.Get("private")); ok {
		st.meta.Private, st.meta.Internal = priv, false
	}
	if p.Get("default_branch") != "" {
		st.firstPush = false
	}
	f.api.mu.Unlock()
	v = f.view(st)
	writeJSON(w, http.StatusOK, f.giteeRepoJSON(&v, c))
}
