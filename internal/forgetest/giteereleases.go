package forgetest

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Gitee's release endpoints (OpenAPI v5): releases and their attach_files.
// Gitee has no draft releases; drafts seeded with AddRelease stay hidden.

// giteeReleaseRoutes adds the release routes to the Gitee API mux.
func (f *Forge) giteeReleaseRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /repos/{owner}/{repo}/releases", f.giteeListReleases)
	m.HandleFunc("POST /repos/{owner}/{repo}/releases", f.giteeCreateRelease)
	m.HandleFunc("GET /repos/{owner}/{repo}/releases/tags/{tag}", f.giteeReleaseByTag)
	m.HandleFunc("GET /repos/{owner}/{repo}/releases/{id}", f.giteeGetRelease)
	m.HandleFunc("PATCH /repos/{owner}/{repo}/releases/{id}", f.giteePatchRelease)
	// {sub} rather than attach_files: ServeMux finds that pattern and
	// …/releases/tags/{tag} equally specific.
	m.HandleFunc("GET /repos/{owner}/{repo}/releases/{id}/{sub}", f.giteeListAttach)
	m.HandleFunc("POST /repos/{owner}/{repo}/releases/{id}/attach_files", f.giteeUploadAttach)
	m.HandleFunc("DELETE /repos/{owner}/{repo}/releases/{id}/attach_files/{file}", f.giteeDeleteAttach)
}

// Gitee's words for release errors.
const (
	giteeReleaseExists = "Release 已存在 (a release of this tag already exists)"
	giteeNoTag         = "Tag 不存在 (tag does not exist)"
	giteeNoRelease     = "Not Found Release"
)

type giteeAuthor struct {
	ID      int64  `json:"id"`
	Login   string `json:"login"`
	Name    string `json:"name"`
	HTMLURL string `json:"html_url"`
}

type giteeReleaseJSON struct {
	ID              int64             `json:"id"`
	TagName         string            `json:"tag_name"`
	TargetCommitish string            `json:"target_commitish"`
	Prerelease      bool              `json:"prerelease"`
	Name            string            `json:"name"`
	Body            string            `json:"body"`
	Author          giteeAuthor       `json:"author"`
	CreatedAt       string            `json:"created_at"`
	Assets          []giteeReleaseRef `json:"assets"`
}

// giteeReleaseRef is how a release lists its files: source archives and
// attachments, by name and URL only.
type giteeReleaseRef struct {
	BrowserDownloadURL string `json:"browser_download_url"`
	Name               string `json:"name,omitempty"`
}

type giteeAttachJSON struct {
	ID                 int64       `json:"id"`
	Name               string      `json:"name"`
	Size               int64       `json:"size"`
	Uploader           giteeAuthor `json:"uploader"`
	BrowserDownloadURL string      `json:"browser_download_url"`
	CreatedAt          string      `json:"created_at"`
}

func (f *Forge) giteeAuthor(login string) giteeAuthor {
	acc, _ := f.lookupAccount(login)
	return giteeAuthor{ID: acc.id, Login: login, Name: login, HTMLURL: f.BaseURL() + "/" + login}
}

func (f *Forge) giteeDownloadURL(owner, name string, r *fakeRelease, a *fakeAsset) string {
	return f.BaseURL() + "/" + owner + "/" + name + "/releases/download/" + url.PathEscape(r.tag) + "/" + url.PathEscape(a.name)
}

func (f *Forge) giteeAttachJSON(owner, name string, r *fakeRelease, a *fakeAsset) giteeAttachJSON {
	return giteeAttachJSON{ID: a.id, Name: a.name, Size: a.size, Uploader: f.giteeAuthor(a.uploader),
		BrowserDownloadURL: f.giteeDownloadURL(owner, name, r, a), CreatedAt: a.created.Format(giteeTimeLayout)}
}

func (f *Forge) giteeReleaseJSON(owner, name string, r *fakeRelease) giteeReleaseJSON {
	base := f.BaseURL() + "/" + owner + "/" + name + "/repository/archive/" + r.tag
	out := giteeReleaseJSON{ID: r.id, TagName: r.tag, TargetCommitish: firstOf(r.commitish, "master"), Prerelease: r.prerelease,
		Name: r.name, Body: r.body, Author: f.giteeAuthor(r.author), CreatedAt: r.created.Format(giteeTimeLayout)}
	for _, a := range f.assetList(r) {
		out.Assets = append(out.Assets, giteeReleaseRef{BrowserDownloadURL: f.giteeDownloadURL(owner, name, r, a), Name: a.name})
	}
	out.Assets = append(out.Assets, giteeReleaseRef{BrowserDownloadURL: base + ".zip"}, giteeReleaseRef{BrowserDownloadURL: base + ".tar.gz"})
	return out
}

// giteeReleaseRepo authenticates a release request and finds its
// repository; write needs push access (403).
func (f *Forge) giteeReleaseRepo(w http.ResponseWriter, r *http.Request, write bool) (key, owner, name string, p url.Values, ok bool) {
	c, p, ok := f.giteeAuth(w, r, write)
	if !ok {
		return "", "", "", nil, false
	}
	_, v, ok := f.giteeRepoFor(w, r, c)
	if !ok {
		return "", "", "", nil, false
	}
	if write && f.access(c, v.owner, v.name) < Write {
		giteeError(w, http.StatusForbidden, giteeForbidden)
		return "", "", "", nil, false
	}
	return v.owner + "/" + v.name, v.owner, v.name, p, true
}

// published lists key's releases without drafts, newest first.
func (f *Forge) published(key string) []*fakeRelease {
	s := f.rel()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*fakeRelease
	rs := s.byRepo[key]
	for i := len(rs) - 1; i >= 0; i-- {
		if !rs[i].draft {
			out = append(out, rs[i])
		}
	}
	return out
}

// giteeListReleases serves GET …/releases.
func (f *Forge) giteeListReleases(w http.ResponseWriter, r *http.Request) {
	key, owner, name, p, ok := f.giteeReleaseRepo(w, r, false)
	if !ok {
		return
	}
	list := f.published(key)
	if p.Get("direction") == "asc" {
		for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
			list[i], list[j] = list[j], list[i]
		}
	}
	page, per := paging(p.Get, giteePerPage, giteeMaxPerPage)
	items, pages := pageOf(list, page, per)
	w.Header()["total_count"] = []string{strconv.Itoa(len(list))}
	w.Header()["total_page"] = []string{strconv.Itoa(pages)}
	out := make([]giteeReleaseJSON, 0, len(items))
	for _, rel := range items {
		out = append(out, f.giteeReleaseJSON(owner, name, rel))
	}
	writeJSON(w, http.StatusOK, out)
}

// giteeReleaseByTag serves GET …/releases/tags/{tag}; an unknown tag is 404.
func (f *Forge) giteeReleaseByTag(w http.ResponseWriter, r *http.Request) {
	key, owner, name, _, ok := f.giteeReleaseRepo(w, r, false)
	if !ok {
		return
	}
	s := f.rel()
	s.mu.Lock()
	rel := s.byTag(key, r.PathValue("tag"))
	s.mu.Unlock()
	if rel == nil || rel.draft {
		giteeError(w, http.StatusNotFound, giteeNoRelease)
		return
	}
	writeJSON(w, http.StatusOK, f.giteeReleaseJSON(owner, name, rel))
}

// giteeGetRelease serves GET …/releases/{id}.
func (f *Forge) giteeGetRelease(w http.ResponseWriter, r *http.Request) {
	key, owner, name, _, ok := f.giteeReleaseRepo(w, r, false)
	if !ok {
		return
	}
	rel := f.findRelease(key, r.PathValue("id"))
	if rel == nil || rel.draft {
		giteeError(w, http.StatusNotFound, giteeNoRelease)
		return
	}
	writeJSON(w, http.StatusOK, f.giteeReleaseJSON(owner, name, rel))
}

// giteeReleaseFields checks the fields Gitee requires on create and update.
func giteeReleaseFields(p url.Values) string {
	for _, k := range []string{"tag_name", "name", "body"} {
		if _, ok := p[k]; !ok {
			return k + " is missing"
		}
	}
	if strings.TrimSpace(p.Get("name")) == "" {
		return "name is empty"
	}
	return ""
}

// giteeCreateRelease serves POST …/releases (tag_name, name, body,
// prerelease, target_commitish). The tag must exist.
func (f *Forge) giteeCreateRelease(w http.ResponseWriter, r *http.Request) {
	key, owner, name, p, ok := f.giteeReleaseRepo(w, r, true)
	if !ok {
		return
	}
	if msg := giteeReleaseFields(p); msg != "" {
		giteeError(w, http.StatusBadRequest, msg)
		return
	}
	tag := p.Get("tag_name")
	if !f.hasTag(owner, name, tag) {
		giteeError(w, http.StatusBadRequest, giteeNoTag)
		return
	}
	pre, _ := boolParam(p.Get("prerelease"))
	rel := &fakeRelease{tag: tag, name: p.Get("name"), body: p.Get("body"), prerelease: pre,
		commitish: p.Get("target_commitish"), author: owner, created: time.Now().UTC()}
	s := f.rel()
	s.mu.Lock()
	if s.byTag(key, tag) != nil {
		s.mu.Unlock()
		giteeError(w, http.StatusBadRequest, giteeReleaseExists)
		return
	}
	s.nextID++
	rel.id = s.nextID
	s.byRepo[key] = append(s.byRepo[key], rel)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, f.giteeReleaseJSON(owner, name, rel))
}

// giteePatchRelease serves PATCH …/releases/{id} (tag_name, name and body
// required; the tag cannot change).
func (f *Forge) giteePatchRelease(w http.ResponseWriter, r *http.Request) {
	key, owner, name, p, ok := f.giteeReleaseRepo(w, r, true)
	if !ok {
		return
	}
	if msg := giteeReleaseFields(p); msg != "" {
		giteeError(w, http.StatusBadRequest, msg)
		return
	}
	rel := f.findRelease(key, r.PathValue("id"))
	if rel == nil || rel.draft {
		giteeError(w, http.StatusNotFound, giteeNoRelease)
		return
	}
	s := f.rel()
	s.mu.Lock()
	if p.Get("tag_name") != rel.tag {
		s.mu.Unlock()
		giteeError(w, http.StatusBadRequest, "tag_name cannot be changed")
		return
	}
	rel.name, rel.body = p.Get("name"), p.Get("body")
	if pre, ok := boolParam(p.Get("prerelease")); ok {
		rel.prerelease = pre
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, f.giteeReleaseJSON(owner, name, rel))
}

// giteeListAttach serves GET …/releases/{id}/attach_files.
func (f *Forge) giteeListAttach(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("sub") != "attach_files" {
		giteeError(w, http.StatusNotFound, giteeNotFound)
		return
	}
	key, owner, name, p, ok := f.giteeReleaseRepo(w, r, false)
	if !ok {
		return
	}
	rel := f.findRelease(key, r.PathValue("id"))
	if rel == nil || rel.draft {
		giteeError(w, http.StatusNotFound, giteeNoRelease)
		return
	}
	list := f.assetList(rel)
	page, per := paging(p.Get, giteePerPage, giteeMaxPerPage)
	items, pages := pageOf(list, page, per)
	w.Header()["total_count"] = []string{strconv.Itoa(len(list))}
	w.Header()["total_page"] = []string{strconv.Itoa(pages)}
	out := make([]giteeAttachJSON, 0, len(items))
	for _, a := range items {
		out = append(out, f.giteeAttachJSON(owner, name, rel, a))
	}
	writeJSON(w, http.StatusOK, out)
}

// giteeDeleteAttach serves DELETE …/releases/{id}/attach_files/{file}.
func (f *Forge) giteeDeleteAttach(w http.ResponseWriter, r *http.Request) {
	key, _, _, _, ok := f.giteeReleaseRepo(w, r, true)
	if !ok {
		return
	}
	rel := f.findRelease(key, r.PathValue("id"))
	_, a := f.findAsset(key, r.PathValue("file"))
	if rel == nil || a == nil {
		giteeError(w, http.StatusNotFound, "Not Found Attach File")
		return
	}
	f.detach(rel, a)
	w.WriteHeader(http.StatusNoContent)
}

// giteeUploadAttach serves POST …/releases/{id}/attach_files: multipart
// with access_token (a field before the file, or in the query) and the
// field "file". The file streams to disk; one over the per-file limit is
// read to its end and refused with Gitee's message.
func (f *Forge) giteeUploadAttach(w http.ResponseWriter, r *http.Request) {
	mr, err := r.MultipartReader()
	if err != nil {
		giteeError(w, http.StatusBadRequest, "400 Bad Request: "+err.Error())
		return
	}
	token := r.URL.Query().Get("access_token")
	for {
		part, err := mr.NextPart()
		if err != nil {
			giteeError(w, http.StatusBadRequest, "file is missing")
			return
		}
		if part.FormName() == "access_token" {
			b, _ := io.ReadAll(io.LimitReader(part, 4096))
			token = string(b)
			continue
		}
		if part.FormName() != "file" {
			continue
		}
		f.giteeStoreAttach(w, r, token, part.FileName(), part)
		return
	}
}

// giteeStoreAttach authenticates an upload whose token came in the body,
// then stores the file part.
func (f *Forge) giteeStoreAttach(w http.ResponseWriter, r *http.Request, token, file string, part io.Reader) {
	auth := r.Clone(r.Context())
	auth.Body = http.NoBody
	auth.Header = http.Header{}
	auth.URL.RawQuery = url.Values{"access_token": {token}}.Encode()
	key, owner, name, _, ok := f.giteeReleaseRepo(w, auth, true)
	if !ok {
		return
	}
	rel := f.findRelease(key, r.PathValue("id"))
	if rel == nil || rel.draft {
		giteeError(w, http.StatusNotFound, giteeNoRelease)
		return
	}
	if file == "" {
		giteeError(w, http.StatusBadRequest, "file is missing")
		return
	}
	if f.failUpload(w, r, func(status int) { giteeError(w, status, fmt.Sprintf("%d %s", status, http.StatusText(status))) }) {
		return
	}
	limit := f.giteeAssetLimit()
	a, err := f.storeAsset(part, limit)
	if errors.Is(err, errTooLarge) {
		io.Copy(io.Discard, r.Body)
		s := f.rel()
		s.mu.Lock()
		s.stats.FailedUploads++
		s.mu.Unlock()
		size := fmt.Sprintf("%d MB", limit>>20)
		if limit < 1<<20 {
			size = fmt.Sprintf("%d B", limit)
		}
		giteeError(w, http.StatusBadRequest, "附件大小不能超过 "+size+" (attachment larger than "+size+")")
		return
	}
	if err != nil {
		giteeError(w, http.StatusBadRequest, "400 Bad Request: "+err.Error())
		return
	}
	a.name, a.ctype, a.uploader = file, "application/octet-stream", owner
	if msg := f.attach(rel, a); msg != "" {
		giteeError(w, http.StatusBadRequest, "附件已存在 ("+msg+")")
		return
	}
	writeJSON(w, http.StatusCreated, f.giteeAttachJSON(owner, name, rel, a))
}

// serveReleaseDownload serves a Gitee browser download URL,
// /{owner}/{repo}/releases/download/{tag}/{file}, and reports whether the
// path was one: public repositories to anyone, private ones with an
// access_token that reads them. It redirects to storage as gitee.com does.
func (f *Forge) serveReleaseDownload(w http.ResponseWriter, r *http.Request) bool {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if r.Method != http.MethodGet || len(parts) != 6 || parts[2] != "releases" || parts[3] != "download" {
		return false
	}
	owner, name, tag, file := parts[0], parts[1], parts[4], parts[5]
	if !validName(owner) || !validName(name) {
		return false
	}
	r.SetPathValue("owner", owner)
	r.SetPathValue("repo", name)
	if _, _, _, _, ok := f.giteeReleaseRepo(w, r, false); !ok {
		return true
	}
	s := f.rel()
	s.mu.Lock()
	var found *fakeAsset
	if rel := s.byTag(owner+"/"+name, tag); rel != nil && !rel.draft {
		for _, a := range rel.assets {
			if a.name == file {
				found = a
			}
		}
	}
	s.mu.Unlock()
	if found == nil {
		http.NotFound(w, r)
		return true
	}
	http.Redirect(w, r, f.storageURL(found), http.StatusFound)
	return true
}
