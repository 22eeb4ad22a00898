package forgetest

import (
	"cmp"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// site is which fake API a request went to.
type site int

const (
	siteGitee site = iota
	siteGitHub
)

func (s site) String() string {
	if s == siteGitee {
		return "gitee"
	}
	return "github"
}

// APIStats counts requests to the fake site APIs, whatever their outcome
// (refused, failed on purpose or served).
type APIStats struct {
	Gitee  int // requests under /api/v5
	GitHub int // requests under /api/v3
	// Endpoints counts requests by site and route, e.g.
	// "gitee GET /repos/{owner}/{repo}" or "github POST /orgs/{org}/repos";
	// requests matching no route count as "gitee unknown" or "github unknown".
	Endpoints map[string]int
}

// APIStats returns the API counts since New or the last ResetAPIStats.
// Git requests are counted by Stats, not here.
func (f *Forge) APIStats() APIStats {
	a := f.api
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.stats
	s.Endpoints = maps.Clone(s.Endpoints)
	if s.Endpoints == nil {
		s.Endpoints = map[string]int{}
	}
	return s
}

// ResetAPIStats sets every API count to zero.
func (f *Forge) ResetAPIStats() {
	a := f.api
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stats = APIStats{}
}

// APIFailNext makes the next n API requests (Gitee or GitHub) answer status
// (say 500, 502, 503 or 429) with a JSON {"message": ...} body, before
// authentication. It replaces any API failures still pending; n = 0 cancels
// them. Git requests are not affected: see FailNext.
func (f *Forge) APIFailNext(n, status int) {
	a := f.api
	a.mu.Lock()
	defer a.mu.Unlock()
	a.failN, a.failCode = n, status
}

// apiHandler serves one site's API under prefix: it strips the prefix,
// counts the request by route, applies APIFailNext, then dispatches.
func (f *Forge) apiHandler(s site, prefix string, mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r2 := new(http.Request)
		*r2 = *r
		u := *r.URL
		u.Path = strings.TrimPrefix(u.Path, prefix)
		u.RawPath = strings.TrimPrefix(u.RawPath, prefix)
		r2.URL = &u
		_, pattern := mux.Handler(r2)
		if pattern == "/" || pattern == "" {
			pattern = "unknown"
		}
		a := f.api
		a.mu.Lock()
		if s == siteGitee {
			a.stats.Gitee++
		} else {
			a.stats.GitHub++
		}
		if a.stats.Endpoints == nil {
			a.stats.Endpoints = map[string]int{}
		}
		a.stats.Endpoints[s.String()+" "+pattern]++
		fail := 0
		if a.failN > 0 {
			a.failN--
			fail = a.failCode
		}
		a.mu.Unlock()
		if fail != 0 {
			writeJSON(w, fail, map[string]string{"message": http.StatusText(fail)})
			return
		}
		mux.ServeHTTP(w, r2)
	})
}

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if v != nil {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.Encode(v)
	}
}

// paging reads page and per_page: per_page defaults to def and is capped at
// max; page starts at 1.
func paging(get func(string) string, def, max int) (page, per int) {
	page, err := strconv.Atoi(get("page"))
	if err != nil || page < 1 {
		page = 1
	}
	per, err = strconv.Atoi(get("per_page"))
	if err != nil || per < 1 {
		per = def
	}
	return page, min(per, max)
}

// pageOf returns items' page, and how many pages there are.
func pageOf[T any](items []T, page, per int) (out []T, pages int) {
	pages = (len(items) + per - 1) / per
	lo := (page - 1) * per
	if lo >= len(items) {
		return []T{}, pages
	}
	return items[lo:min(lo+per, len(items))], pages
}

// caller is who made an API request: a user, an installation token, or
// nobody (anonymous).
type caller struct {
	login string        // "" when anonymous
	inst  *installation // an installation token
}

// access is what c may do with owner/name: installation tokens reach the
// repositories they cover (Write with contents write, else Read: metadata
// read comes with every token), users what Grant gave them.
func (f *Forge) access(c caller, owner, name string) Access {
	switch {
	case c.inst != nil:
		if !c.inst.covers(owner, name) {
			return NoAccess
		}
		if c.inst.perms.allows("contents", "write") {
			return Write
		}
		return Read
	case c.login == "":
		return NoAccess
	}
	return f.Permission(c.login, owner, name)
}

// visible reports whether c sees repository v: public ones are seen by
// everybody, private (and internal) ones by those with access.
func (f *Forge) visible(c caller, v *repoView) bool {
	return !v.meta.Private || f.access(c, v.owner, v.name) >= Read
}

// listViews returns views of the repositories accepted by keep (owner and
// name), sorted by full name.
func (f *Forge) listViews(keep func(owner, name string) bool) []repoView {
	var out []repoView
	for _, key := range f.repoKeys() {
		owner, name, _ := strings.Cut(key, "/")
		if !keep(owner, name) {
			continue
		}
		if st := f.repo(owner, name); st != nil {
			out = append(out, f.view(st))
		}
	}
	return out
}

// sortViews orders repositories by "full_name" (ascending by default) or by
// creation ("created", "updated", "pushed": descending by default; the
// forge's creation order stands in for all three). direction "asc" or "desc"
// overrides the default.
func sortViews(vs []repoView, by, direction string) {
	desc := by != "full_name"
	switch direction {
	case "asc":
		desc = false
	case "desc":
		desc = true
	}
	slices.SortStableFunc(vs, func(a, b repoView) int {
		c := 0
		if by == "full_name" {
			c = strings.Compare(strings.ToLower(a.owner+"/"+a.name), strings.ToLower(b.owner+"/"+b.name))
		} else {
			c = cmp.Compare(a.id, b.id)
		}
		if desc {
			c = -c
		}
		return c
	})
}

// filter keeps the views accepted by keep.
func filter(vs []repoView, keep func(*repoView) bool) []repoView {
	out := vs[:0]
	for i := range vs {
		if keep(&vs[i]) {
			out = append(out, vs[i])
		}
	}
	return out
}

// boolParam reads a Gitee or GitHub boolean given as text: true/1 or
// false/0. ok is false when absent or unreadable.
func boolParam(s string) (v, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1":
		return true, true
	case "false", "0":
		return false, true
	}
	return false, false
}

// sshHost is the forge's host name without the port, for ssh_url fields
// (the forge serves no SSH; the URLs only have the sites' shape).
func (f *Forge) sshHost() string {
	if u, err := url.Parse(f.BaseURL()); err == nil {
		return u.Hostname()
	}
	return "127.0.0.1"
}
