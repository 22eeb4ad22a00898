package forgetest

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Gitee page sizes.
const (
	giteePerPage    = 20
	giteeMaxPerPage = 100
)

// giteeWriteList answers one page of vs with Gitee's total_count and
// total_page headers, spelled in lower case as Gitee sends them.
func (f *Forge) giteeWriteList(w http.ResponseWriter, p url.Values, c caller, vs []repoView) {
	sortViews(vs, firstOf(p.Get("sort"), "full_name"), p.Get("direction"))
	if q := strings.ToLower(p.Get("q")); q != "" {
		vs = filter(vs, func(v *repoView) bool { return strings.Contains(strings.ToLower(v.name), q) })
	}
	page, per := paging(p.Get, giteePerPage, giteeMaxPerPage)
	items, pages := pageOf(vs, page, per)
	w.Header()["total_count"] = []string{strconv.Itoa(len(vs))}
	w.Header()["total_page"] = []string{strconv.Itoa(pages)}
	out := make([]giteeRepo, len(items))
	for i := range items {
		out[i] = f.giteeRepoJSON(&items[i], c)
	}
	writeJSON(w, http.StatusOK, out)
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// visibilityOK applies a visibility filter: all, public, or private
// (internal repositories count as private).
func visibilityOK(vis string, v *repoView) bool {
	switch vis {
	case "public":
		return !v.meta.Private
	case "private":
		return v.meta.Private
	}
	return true
}

// giteeListOwn serves GET /user/repos: repositories the token's user owns,
// collaborates on, or sees as a member of an organisation or enterprise,
// narrowed by visibility, affiliation (owner, collaborator,
// organization_member, enterprise_member, admin) or type (all, owner,
// public, private, member).
func (f *Forge) giteeListOwn(w http.ResponseWriter, r *http.Request) {
	c, p, ok := f.giteeAuth(w, r, true)
	if !ok {
		return
	}
	vis, aff := p.Get("visibility"), p.Get("affiliation")
	switch p.Get("type") {
	case "owner":
		aff = "owner"
	case "public", "private":
		vis = p.Get("type")
	case "member":
		aff = "collaborator,organization_member,enterprise_member"
	}
	if aff == "" {
		aff = "owner,collaborator,organization_member,enterprise_member"
	}
	vs := f.listViews(func(string, string) bool { return true })
	vs = filter(vs, func(v *repoView) bool {
		return f.visible(c, v) && visibilityOK(vis, v) && f.affiliated(c.login, v, aff)
	})
	f.giteeWriteList(w, p, c, vs)
}

// affiliated reports whether login relates to v in one of the ways in aff
// (comma-separated): owner, collaborator (a grant of its own on the
// repository), organization_member / enterprise_member (a grant on the
// owner's "*"), admin (Write access).
func (f *Forge) affiliated(login string, v *repoView, aff string) bool {
	for _, a := range strings.Split(aff, ",") {
		switch strings.TrimSpace(a) {
		case "owner":
			if v.owner == login {
				return true
			}
		case "collaborator":
			if _, ok := f.grantOf(login, v.owner+"/"+v.name); ok && v.owner != login {
				return true
			}
		case "organization_member", "enterprise_member":
			want := orgAccount
			if strings.HasPrefix(a, "enterprise") {
				want = enterpriseAccount
			}
			if g, ok := f.grantOf(login, v.owner+"/*"); ok && g >= Read && v.ownerKind == want {
				return true
			}
		case "admin":
			if f.Permission(login, v.owner, v.name) >= Write {
				return true
			}
		}
	}
	return false
}

// giteeListUser serves GET /users/{username}/repos: the user's public
// repositories; type all or member adds public ones the user has a grant
// on.
func (f *Forge) giteeListUser(w http.ResponseWriter, r *http.Request) {
	c, p, ok := f.giteeAuth(w, r, false)
	if !ok {
		return
	}
	user := r.PathValue("username")
	if acc, found := f.lookupAccount(user); !found || acc.kind != userAccount {
		giteeError(w, http.StatusNotFound, giteeNotFound)
		return
	}
	aff := "owner"
	switch p.Get("type") {
	case "all":
		aff = "owner,collaborator"
	case "member":
		aff = "collaborator"
	}
	vs := f.listViews(func(string, string) bool { return true })
	vs = filter(vs, func(v *repoView) bool { return !v.meta.Private && f.affiliated(user, v, aff) })
	f.giteeWriteList(w, p, c, vs)
}

// giteeListNamespace serves GET /orgs/{org}/repos (type all, public,
// private) and /enterprises/{enterprise}/repos (type all, public, internal,
// private): the repositories of the namespace that the caller sees.
func (f *Forge) giteeListNamespace(kind accountKind, param string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, p, ok := f.giteeAuth(w, r, false)
		if !ok {
			return
		}
		ns := r.PathValue(param)
		if acc, found := f.lookupAccount(ns); !found || acc.kind != kind {
			giteeError(w, http.StatusNotFound, giteeNotFound)
			return
		}
		typ := p.Get("type")
		vs := f.listViews(func(owner, _ string) bool { return owner == ns })
		vs = filter(vs, func(v *repoView) bool {
			if !f.visible(c, v) {
				return false
			}
			switch typ {
			case "public":
				return !v.meta.Private
			case "private":
				return v.meta.Private && !v.meta.Internal
			case "internal":
				return v.meta.Internal
			}
			return true
		})
		f.giteeWriteList(w, p, c, vs)
	}
}

// giteeCreate serves POST /user/repos, /orgs/{org}/repos and
// /enterprises/{enterprise}/repos: name (required; the display name), path
// (default: name), description, homepage, auto_init, and visibility as Gitee
// defines it per endpoint — for a user, private true/false (default
// private); for an organisation, public 0 private, 1 public, 2 internal
// (default 0; it overrides private); for an enterprise, private 0 private,
// 1 public, 2 internal (public, when given, wins). The creator gets Write on
// the new repository, which starts empty with HEAD at master unless
// auto_init made a README commit there.
func (f *Forge) giteeCreate(kind accountKind, param string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, p, ok := f.giteeAuth(w, r, true)
		if !ok {
			return
		}
		owner := c.login
		if kind != userAccount {
			owner = r.PathValue(param)
			if acc, found := f.lookupAccount(owner); !found || acc.kind != kind {
				giteeError(w, http.StatusNotFound, giteeNotFound)
				return
			}
			if g, _ := f.grantOf(c.login, owner+"/*"); g < Write {
				giteeError(w, http.StatusForbidden, giteeForbidden+": no permission to create repositories in "+owner)
				return
			}
		}
		name := strings.TrimSpace(p.Get("name"))
		if name == "" {
			giteeError(w, http.StatusBadRequest, "name is missing")
			return
		}
		path := firstOf(p.Get("path"), name)
		if !validName(path) {
			giteeError(w, http.StatusBadRequest, "path is invalid: use letters, digits, '-', '_' and '.'")
			return
		}
		m := RepoMeta{Description: p.Get("description"), Homepage: p.Get("homepage")}
		m.Private, m.Internal = giteeVisibility(kind, p)
		display := ""
		if name != path {
			display = name
		}
		st, err := f.createRepoAPI(owner, path, "master", c.login, display, m)
		switch {
		case errors.Is(err, errRepoExists):
			giteeError(w, http.StatusUnprocessableEntity, giteeRepoTaken)
			return
		case err != nil:
			giteeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		if init, _ := boolParam(p.Get("auto_init")); init {
			err := f.autoInit(owner, path, initCommit{
				branch:  "master",
				files:   map[string]string{"README.md": "# " + name + "\n\n" + m.Description + "\n"},
				message: "Initial commit", author: c.login + " <" + c.login + "@user.noreply.gitee.com>",
				committer: "Gitee <noreply@gitee.com>",
			})
			if err != nil {
				giteeError(w, http.StatusInternalServerError, err.Error())
				return
			}
		}
		v := f.view(st)
		writeJSON(w, http.StatusCreated, f.giteeRepoJSON(&v, c))
	}
}

// giteeVisibility reads the visibility of a repository to create. Levels
// are Gitee's 0 private, 1 public, 2 internal; a boolean private is true or
// false. Nothing given means private.
func giteeVisibility(kind accountKind, p url.Values) (private, internal bool) {
	level := func(s string) (private, internal, ok bool) {
		switch strings.TrimSpace(s) {
		case "0":
			return true, false, true
		case "1":
			return false, false, true
		case "2":
			return true, true, true
		}
		return false, false, false
	}
	if kind != userAccount {
		if pr, in, ok := level(p.Get("public")); ok {
			return pr, in
		}
	}
	if kind == enterpriseAccount {
		if pr, in, ok := level(p.Get("private")); ok {
			return pr, in
		}
	}
	if v, ok := boolParam(p.Get("private")); ok {
		return v, false
	}
	return true, false
}
