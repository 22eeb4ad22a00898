package forgetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// GitHub page sizes.
const (
	githubPerPage    = 30
	githubMaxPerPage = 100
)

// githubPage answers one page of vs (already filtered), sorted by sort
// (default defSort) and direction, with a Link header whose URLs start with
// linkPath (API-relative, e.g. "/organizations/7/repos", as GitHub links by
// id) and keep the request's query. wrap, when set, wraps the page (for
// /installation/repositories).
func (f *Forge) githubPage(w http.ResponseWriter, r *http.Request, c caller, vs []repoView, defSort, linkPath string, wrap func(total int, page []githubRepo) any) {
	q := r.URL.Query()
	sortViews(vs, firstOf(q.Get("sort"), defSort), q.Get("direction"))
	page, per := paging(q.Get, githubPerPage, githubMaxPerPage)
	items, pages := pageOf(vs, page, per)
	if link := githubLink(strings.TrimSuffix(f.GitHubAPIURL(), "/")+linkPath, r.URL.RawQuery, page, pages); link != "" {
		w.Header().Set("Link", link)
	}
	out := make([]githubRepo, len(items))
	for i := range items {
		out[i] = f.githubRepoJSON(&items[i], c)
	}
	if wrap != nil {
		writeJSON(w, http.StatusOK, wrap(len(vs), out))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// githubLink formats GitHub's RFC 5988 Link header for page of last:
// `<url>; rel="prev", <url>; rel="next", <url>; rel="last", <url>;
// rel="first"`, each part present only when it applies, as GitHub sends
// them. The URLs keep rawQuery with page set.
func githubLink(base, rawQuery string, page, last int) string {
	at := func(n int) string { return "<" + base + "?" + withPage(rawQuery, n) + ">" }
	var parts []string
	if page > 1 {
		parts = append(parts, at(page-1)+`; rel="prev"`)
	}
	if page < last {
		parts = append(parts, at(page+1)+`; rel="next"`, at(last)+`; rel="last"`)
	}
	if page > 1 {
		parts = append(parts, at(1)+`; rel="first"`)
	}
	return strings.Join(parts, ", ")
}

// withPage sets page=n in a raw query, in place when it is there, keeping
// the other parameters in their order.
func withPage(rawQuery string, n int) string {
	var parts []string
	set := false
	for _, kv := range strings.Split(rawQuery, "&") {
		if kv == "" {
			continue
		}
		if k, _, _ := strings.Cut(kv, "="); k == "page" {
			if !set {
				parts = append(parts, "page="+strconv.Itoa(n))
				set = true
			}
			continue
		}
		parts = append(parts, kv)
	}
	if !set {
		parts = append(parts, "page="+strconv.Itoa(n))
	}
	return strings.Join(parts, "&")
}

// githubAccountParam resolves {org}/{username} or the numeric {id} of the
// id-based aliases GitHub's Link headers use.
func (f *Forge) githubAccountParam(r *http.Request, param string) (account, bool) {
	if raw := r.PathValue("id"); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return account{}, false
		}
		return f.accountByID(id)
	}
	return f.lookupAccount(r.PathValue(param))
}

// githubListOrg serves GET /orgs/{org}/repos (and /organizations/{id}/repos):
// type all (default), public, private, forks, sources or member; sort
// created (default, newest first), updated, pushed or full_name.
func (f *Forge) githubListOrg(w http.ResponseWriter, r *http.Request) {
	c, ok := f.githubAuth(w, r, false)
	if !ok {
		return
	}
	acc, found := f.githubAccountParam(r, "org")
	if !found || acc.kind != orgAccount {
		githubError(w, http.StatusNotFound, githubNotFound)
		return
	}
	typ := r.URL.Query().Get("type")
	vs := f.listViews(func(owner, _ string) bool { return owner == acc.name })
	vs = filter(vs, func(v *repoView) bool {
		if !f.visible(c, v) {
			return false
		}
		switch typ {
		case "public":
			return !v.meta.Private
		case "private":
			return v.meta.Private
		case "forks":
			return v.meta.Fork
		case "sources":
			return !v.meta.Fork
		case "member":
			return f.access(c, v.owner, v.name) >= Read
		}
		return true
	})
	f.githubPage(w, r, c, vs, "created", fmt.Sprintf("/organizations/%d/repos", acc.id), nil)
}

// githubListUser serves GET /users/{username}/repos (and /user/{id}/repos):
// the account's public repositories; type owner (default), all or member.
func (f *Forge) githubListUser(w http.ResponseWriter, r *http.Request) {
	c, ok := f.githubAuth(w, r, false)
	if !ok {
		return
	}
	acc, found := f.githubAccountParam(r, "username")
	if !found || acc.kind == enterpriseAccount {
		githubError(w, http.StatusNotFound, githubNotFound)
		return
	}
	aff := "owner"
	switch r.URL.Query().Get("type") {
	case "all":
		aff = "owner,collaborator"
	case "member":
		aff = "collaborator"
	}
	vs := f.listViews(func(string, string) bool { return true })
	vs = filter(vs, func(v *repoView) bool { return !v.meta.Private && f.affiliated(acc.name, v, aff) })
	f.githubPage(w, r, c, vs, "full_name", fmt.Sprintf("/user/%d/repos", acc.id), nil)
}

// githubListOwn serves GET /user/repos: visibility (all, public, private),
// affiliation (owner, collaborator, organization_member; default all three)
// or type (all, owner, public, private, member); sort full_name by default.
func (f *Forge) githubListOwn(w http.ResponseWriter, r *http.Request) {
	c, ok := f.githubAuth(w, r, true)
	if !ok {
		return
	}
	if c.inst != nil {
		githubError(w, http.StatusForbidden, githubNotIntegrations)
		return
	}
	q := r.URL.Query()
	vis, aff := q.Get("visibility"), q.Get("affiliation")
	if typ := q.Get("type"); typ != "" {
		if vis != "" || aff != "" {
			githubValidation(w, "Repository", "type", "invalid", "If you specify visibility or affiliation, you cannot specify type.")
			return
		}
		switch typ {
		case "owner":
			aff = "owner"
		case "public", "private":
			vis = typ
		case "member":
			aff = "collaborator,organization_member"
		}
	}
	if aff == "" {
		aff = "owner,collaborator,organization_member"
	}
	vs := f.listViews(func(string, string) bool { return true })
	vs = filter(vs, func(v *repoView) bool {
		return f.visible(c, v) && visibilityOK(vis, v) && f.affiliated(c.login, v, aff)
	})
	f.githubPage(w, r, c, vs, "full_name", "/user/repos", nil)
}

// githubListInstallation serves GET /installation/repositories for an
// installation token: {"total_count", "repository_selection",
// "repositories"}.
func (f *Forge) githubListInstallation(w http.ResponseWriter, r *http.Request) {
	c, ok := f.githubAuth(w, r, true)
	if !ok {
		return
	}
	if c.inst == nil {
		githubError(w, http.StatusForbidden, "You must authenticate with an installation access token in order to list repositories for an installation.")
		return
	}
	selection := "selected"
	for k := range c.inst.repos {
		if strings.HasSuffix(k, "/*") {
			selection = "all"
		}
	}
	vs := f.listViews(c.inst.covers)
	f.githubPage(w, r, c, vs, "full_name", "/installation/repositories", func(total int, page []githubRepo) any {
		return map[string]any{"total_count": total, "repository_selection": selection, "repositories": page}
	})
}

// githubCreateBody is the body of POST /user/repos and /orgs/{org}/repos.
type githubCreateBody struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Homepage    string  `json:"homepage"`
	Private     *bool   `json:"private"`
	Visibility  *string `json:"visibility"`
	AutoInit    bool    `json:"auto_init"`
}

// badNameChars are the characters GitHub replaces with "-" in a new
// repository's name.
var badNameChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// githubCreate serves POST /user/repos (the token's user; not installation
// tokens: 403) and POST /orgs/{org}/repos (users with Write on "org/*",
// installations covering "org/*"). Body: name (required; other characters
// than letters, digits, '.', '-' and '_' become '-'), description, homepage,
// private or visibility (public by default), auto_init (one commit with a
// README.md on main, as GitHub makes). 201 with the repository; 422 when the
// name is taken. A user creator gets Write on it.
func (f *Forge) githubCreate(inOrg bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, ok := f.githubAuth(w, r, true)
		if !ok {
			return
		}
		owner := c.login
		if inOrg {
			acc, found := f.lookupAccount(r.PathValue("org"))
			if !found || acc.kind != orgAccount {
				githubError(w, http.StatusNotFound, githubNotFound)
				return
			}
			owner = acc.name
			if c.inst != nil && !c.inst.repos[owner+"/*"] {
				githubError(w, http.StatusForbidden, githubNotIntegrations)
				return
			}
			if g, _ := f.grantOf(c.login, owner+"/*"); c.inst == nil && g < Write {
				githubError(w, http.StatusForbidden, "You need admin access to the organization before adding a repository to it.")
				return
			}
		} else if c.inst != nil {
			githubError(w, http.StatusForbidden, githubNotIntegrations)
			return
		}
		var body githubCreateBody
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			githubError(w, http.StatusBadRequest, "Problems parsing JSON")
			return
		}
		name := badNameChars.ReplaceAllString(strings.TrimSpace(body.Name), "-")
		if name == "" {
			githubCreateFailed(w, "missing_field", "")
			return
		}
		if !validName(name) {
			githubCreateFailed(w, "custom", "name is invalid")
			return
		}
		m := RepoMeta{Description: body.Description, Homepage: body.Homepage}
		if body.Private != nil {
			m.Private = *body.Private
		}
		if vis := body.Visibility; vis != nil {
			if *vis != "public" && *vis != "private" && (*vis != "internal" || !inOrg) {
				githubValidation(w, "Repository", "visibility", "invalid", "visibility must be public or private")
				return
			}
			m.Private, m.Internal = *vis != "public", *vis == "internal"
		}
		st, err := f.createRepoAPI(owner, name, "main", c.login, "", m)
		switch {
		case errors.Is(err, errRepoExists):
			githubCreateFailed(w, "custom", "name already exists on this account")
			return
		case err != nil:
			githubError(w, http.StatusInternalServerError, err.Error())
			return
		}
		if body.AutoInit {
			author := "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>"
			if c.login != "" {
				author = c.login + " <" + c.login + "@users.noreply.github.com>"
			}
			readme := "# " + name + "\n"
			if m.Description != "" {
				readme += m.Description + "\n"
			}
			err := f.autoInit(owner, name, initCommit{branch: "main", files: map[string]string{"README.md": readme},
				message: "Initial commit", author: author, committer: "GitHub <noreply@github.com>"})
			if err != nil {
				githubError(w, http.StatusInternalServerError, err.Error())
				return
			}
		}
		v := f.view(st)
		writeJSON(w, http.StatusCreated, f.githubRepoJSON(&v, c))
	}
}

// githubCreateFailed answers GitHub's 422 for a repository it cannot create.
func githubCreateFailed(w http.ResponseWriter, code, msg string) {
	e := map[string]string{"resource": "Repository", "code": code, "field": "name"}
	if msg != "" {
		e["message"] = msg
	}
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
		"message": "Repository creation failed.", "errors": []map[string]string{e},
		"documentation_url": githubDocs, "status": "422",
	})
}
