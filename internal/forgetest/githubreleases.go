package forgetest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// GitHub's release endpoints, in the shapes of docs.github.com/rest/releases.

// githubReleaseRoutes adds the release routes to the GitHub API mux.
func (f *Forge) githubReleaseRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /repos/{owner}/{repo}/releases", f.githubListReleases)
	m.HandleFunc("POST /repos/{owner}/{repo}/releases", f.githubCreateRelease)
	m.HandleFunc("GET /repos/{owner}/{repo}/releases/tags/{tag}", f.githubReleaseByTag)
	m.HandleFunc("GET /repos/{owner}/{repo}/releases/{id}", f.githubGetRelease)
	m.HandleFunc("PATCH /repos/{owner}/{repo}/releases/{id}", f.githubPatchRelease)
	// {sub} rather than assets: ServeMux finds that pattern and
	// …/releases/assets/{id} equally specific.
	m.HandleFunc("GET /repos/{owner}/{repo}/releases/{id}/{sub}", f.githubListAssets)
	m.HandleFunc("GET /repos/{owner}/{repo}/releases/assets/{id}", f.githubGetAsset)
	m.HandleFunc("DELETE /repos/{owner}/{repo}/releases/assets/{id}", f.githubDeleteAsset)
}

type githubReleaseJSON struct {
	ID              int64             `json:"id"`
	NodeID          string            `json:"node_id"`
	URL             string            `json:"url"`
	HTMLURL         string            `json:"html_url"`
	AssetsURL       string            `json:"assets_url"`
	UploadURL       string            `json:"upload_url"`
	TarballURL      string            `json:"tarball_url"`
	ZipballURL      string            `json:"zipball_url"`
	TagName         string            `json:"tag_name"`
	TargetCommitish string            `json:"target_commitish"`
	Name            *string           `json:"name"`
	Body            *string           `json:"body"`
	Draft           bool              `json:"draft"`
	Prerelease      bool              `json:"prerelease"`
	CreatedAt       string            `json:"created_at"`
	PublishedAt     *string           `json:"published_at"`
	Author          githubAccount     `json:"author"`
	Assets          []githubAssetJSON `json:"assets"`
}

type githubAssetJSON struct {
	URL                string        `json:"url"`
	ID                 int64         `json:"id"`
	NodeID             string        `json:"node_id"`
	Name               string        `json:"name"`
	Label              *string       `json:"label"`
	Uploader           githubAccount `json:"uploader"`
	ContentType        string        `json:"content_type"`
	State              string        `json:"state"`
	Size               int64         `json:"size"`
	Digest             string        `json:"digest"`
	DownloadCount      int           `json:"download_count"`
	CreatedAt          string        `json:"created_at"`
	UpdatedAt          string        `json:"updated_at"`
	BrowserDownloadURL string        `json:"browser_download_url"`
}

func (f *Forge) githubAssetJSON(owner, name string, r *fakeRelease, a *fakeAsset) githubAssetJSON {
	api := strings.TrimSuffix(f.GitHubAPIURL(), "/")
	acc, _ := f.lookupAccount(a.uploader)
	if acc.name == "" {
		acc = account{name: a.uploader, kind: userAccount}
	}
	ts := a.created.Format(githubTimeLayout)
	return githubAssetJSON{
		URL: api + "/repos/" + owner + "/" + name + "/releases/assets/" + strconv.FormatInt(a.id, 10),
		ID:  a.id, NodeID: nodeID("RA_kwDO", a.id), Name: a.name, Uploader: f.githubAccountJSON(acc),
		ContentType: a.ctype, State: "uploaded", Size: a.size, Digest: "sha256:" + a.sha256,
		CreatedAt: ts, UpdatedAt: ts,
		BrowserDownloadURL: f.BaseURL() + "/" + owner + "/" + name + "/releases/download/" + r.tag + "/" + a.name,
	}
}

func (f *Forge) githubReleaseJSON(owner, name string, r *fakeRelease) githubReleaseJSON {
	api := strings.TrimSuffix(f.GitHubAPIURL(), "/")
	self := api + "/repos/" + owner + "/" + name + "/releases/" + strconv.FormatInt(r.id, 10)
	acc, _ := f.lookupAccount(r.author)
	if acc.name == "" {
		acc = account{name: r.author, kind: userAccount}
	}
	out := githubReleaseJSON{
		ID: r.id, NodeID: nodeID("RE_kwDO", r.id), URL: self,
		HTMLURL:    f.BaseURL() + "/" + owner + "/" + name + "/releases/tag/" + r.tag,
		AssetsURL:  self + "/assets",
		UploadURL:  f.BaseURL() + "/api/uploads/repos/" + owner + "/" + name + "/releases/" + strconv.FormatInt(r.id, 10) + "/assets{?name,label}",
		TarballURL: api + "/repos/" + owner + "/" + name + "/tarball/" + r.tag,
		ZipballURL: api + "/repos/" + owner + "/" + name + "/zipball/" + r.tag,
		TagName:    r.tag, TargetCommitish: firstOf(r.commitish, "main"),
		Name: &r.name, Body: &r.body, Draft: r.draft, Prerelease: r.prerelease,
		CreatedAt: r.created.Format(githubTimeLayout), Author: f.githubAccountJSON(acc),
		Assets: []githubAssetJSON{},
	}
	if !r.draft {
		p := r.created.Format(githubTimeLayout)
		out.PublishedAt = &p
	}
	for _, a := range f.assetList(r) {
		out.Assets = append(out.Assets, f.githubAssetJSON(owner, name, r, a))
	}
	return out
}

// githubReleaseRepo authenticates a release request and finds its
// repository; write asks for push access (403 without it).
func (f *Forge) githubReleaseRepo(w http.ResponseWriter, r *http.Request, write bool) (key, owner, name string, canPush, ok bool) {
	c, ok := f.githubAuth(w, r, write)
	if !ok {
		return "", "", "", false, false
	}
	_, v, ok := f.githubRepoFor(w, r, c)
	if !ok {
		return "", "", "", false, false
	}
	if c.inst != nil && !c.inst.perms.allows("contents", "read") {
		githubError(w, http.StatusForbidden, githubNotIntegrations)
		return "", "", "", false, false
	}
	canPush = f.access(c, v.owner, v.name) >= Write
	if write && !canPush {
		msg := "Must have push access to repository"
		if c.inst != nil {
			msg = githubNotIntegrations
		}
		githubError(w, http.StatusForbidden, msg)
		return "", "", "", false, false
	}
	return v.owner + "/" + v.name, v.owner, v.name, canPush, true
}

// githubListReleases serves GET …/releases, newest first; drafts only for
// those who can push.
func (f *Forge) githubListReleases(w http.ResponseWriter, r *http.Request) {
	key, owner, name, canPush, ok := f.githubReleaseRepo(w, r, false)
	if !ok {
		return
	}
	s := f.rel()
	s.mu.Lock()
	var list []*fakeRelease
	rs := s.byRepo[key]
	for i := len(rs) - 1; i >= 0; i-- {
		if !rs[i].draft || canPush {
			list = append(list, rs[i])
		}
	}
	s.mu.Unlock()
	q := r.URL.Query()
	page, per := paging(q.Get, githubPerPage, githubMaxPerPage)
	items, pages := pageOf(list, page, per)
	if link := githubLink(strings.TrimSuffix(f.GitHubAPIURL(), "/")+"/repos/"+key+"/releases", r.URL.RawQuery, page, pages); link != "" {
		w.Header().Set("Link", link)
	}
	out := make([]githubReleaseJSON, 0, len(items))
	for _, rel := range items {
		out = append(out, f.githubReleaseJSON(owner, name, rel))
	}
	writeJSON(w, http.StatusOK, out)
}

// githubReleaseByTag serves GET …/releases/tags/{tag}: published releases only.
func (f *Forge) githubReleaseByTag(w http.ResponseWriter, r *http.Request) {
	key, owner, name, _, ok := f.githubReleaseRepo(w, r, false)
	if !ok {
		return
	}
	s := f.rel()
	s.mu.Lock()
	rel := s.byTag(key, r.PathValue("tag"))
	s.mu.Unlock()
	if rel == nil || rel.draft {
		githubError(w, http.StatusNotFound, githubNotFound)
		return
	}
	writeJSON(w, http.StatusOK, f.githubReleaseJSON(owner, name, rel))
}

// githubGetRelease serves GET …/releases/{id}.
func (f *Forge) githubGetRelease(w http.ResponseWriter, r *http.Request) {
	key, owner, name, canPush, ok := f.githubReleaseRepo(w, r, false)
	if !ok {
		return
	}
	rel := f.findRelease(key, r.PathValue("id"))
	if rel == nil || (rel.draft && !canPush) {
		githubError(w, http.StatusNotFound, githubNotFound)
		return
	}
	writeJSON(w, http.StatusOK, f.githubReleaseJSON(owner, name, rel))
}

type githubReleaseBody struct {
	TagName         *string `json:"tag_name"`
	TargetCommitish *string `json:"target_commitish"`
	Name            *string `json:"name"`
	Body            *string `json:"body"`
	Draft           *bool   `json:"draft"`
	Prerelease      *bool   `json:"prerelease"`
}

// githubCreateRelease serves POST …/releases. The tag must exist (GitHub
// would create it from target_commitish; a mirror never asks it to).
func (f *Forge) githubCreateRelease(w http.ResponseWriter, r *http.Request) {
	key, owner, name, _, ok := f.githubReleaseRepo(w, r, true)
	if !ok {
		return
	}
	var in githubReleaseBody
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.TagName == nil || *in.TagName == "" {
		githubValidation(w, "Release", "tag_name", "missing_field", "")
		return
	}
	if !f.hasTag(owner, name, *in.TagName) {
		githubValidation(w, "Release", "tag_name", "invalid", "")
		return
	}
	rel := &fakeRelease{tag: *in.TagName, author: owner, created: time.Now().UTC()}
	applyGitHubRelease(rel, &in)
	s := f.rel()
	s.mu.Lock()
	if s.byTag(key, rel.tag) != nil {
		s.mu.Unlock()
		githubValidation(w, "Release", "tag_name", "already_exists", "")
		return
	}
	s.nextID++
	rel.id = s.nextID
	s.byRepo[key] = append(s.byRepo[key], rel)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, f.githubReleaseJSON(owner, name, rel))
}

func applyGitHubRelease(rel *fakeRelease, in *githubReleaseBody) {
	if in.Name != nil {
		rel.name = *in.Name
	}
	if in.Body != nil {
		rel.body = *in.Body
	}
	if in.Draft != nil {
		rel.draft = *in.Draft
	}
	if in.Prerelease != nil {
		rel.prerelease = *in.Prerelease
	}
	if in.TargetCommitish != nil {
		rel.commitish = *in.TargetCommitish
	}
}

// githubPatchRelease serves PATCH …/releases/{id}.
func (f *Forge) githubPatchRelease(w http.ResponseWriter, r *http.Request) {
	key, owner, name, _, ok := f.githubReleaseRepo(w, r, true)
	if !ok {
		return
	}
	rel := f.findRelease(key, r.PathValue("id"))
	if rel == nil {
		githubError(w, http.StatusNotFound, githubNotFound)
		return
	}
	var in githubReleaseBody
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		githubError(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	s := f.rel()
	s.mu.Lock()
	applyGitHubRelease(rel, &in)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, f.githubReleaseJSON(owner, name, rel))
}

// githubListAssets serves GET …/releases/{id}/assets.
func (f *Forge) githubListAssets(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("sub") != "assets" {
		githubError(w, http.StatusNotFound, githubNotFound)
		return
	}
	key, owner, name, canPush, ok := f.githubReleaseRepo(w, r, false)
	if !ok {
		return
	}
	rel := f.findRelease(key, r.PathValue("id"))
	if rel == nil || (rel.draft && !canPush) {
		githubError(w, http.StatusNotFound, githubNotFound)
		return
	}
	q := r.URL.Query()
	page, per := paging(q.Get, githubPerPage, githubMaxPerPage)
	items, pages := pageOf(f.assetList(rel), page, per)
	if link := githubLink(strings.TrimSuffix(f.GitHubAPIURL(), "/")+"/repos/"+key+"/releases/"+r.PathValue("id")+"/assets", r.URL.RawQuery, page, pages); link != "" {
		w.Header().Set("Link", link)
	}
	out := make([]githubAssetJSON, 0, len(items))
	for _, a := range items {
		out = append(out, f.githubAssetJSON(owner, name, rel, a))
	}
	writeJSON(w, http.StatusOK, out)
}

// githubGetAsset serves GET …/releases/assets/{id}: the asset's JSON, or
// with Accept: application/octet-stream a 302 to its storage URL.
func (f *Forge) githubGetAsset(w http.ResponseWriter, r *http.Request) {
	key, owner, name, canPush, ok := f.githubReleaseRepo(w, r, false)
	if !ok {
		return
	}
	rel, a := f.findAsset(key, r.PathValue("id"))
	if a == nil || (rel.draft && !canPush) {
		githubError(w, http.StatusNotFound, githubNotFound)
		return
	}
	if strings.Contains(r.Header.Get("Accept"), "application/octet-stream") {
		http.Redirect(w, r, f.storageURL(a), http.StatusFound)
		return
	}
	writeJSON(w, http.StatusOK, f.githubAssetJSON(owner, name, rel, a))
}

// githubDeleteAsset serves DELETE …/releases/assets/{id}.
func (f *Forge) githubDeleteAsset(w http.ResponseWriter, r *http.Request) {
	key, _, _, _, ok := f.githubReleaseRepo(w, r, true)
	if !ok {
		return
	}
	rel, a := f.findAsset(key, r.PathValue("id"))
	if a == nil {
		githubError(w, http.StatusNotFound, githubNotFound)
		return
	}
	f.detach(rel, a)
	w.WriteHeader(http.StatusNoContent)
}

// githubUploadAsset serves POST /api/uploads/repos/…/releases/{id}/assets
// ?name=FILE with the raw bytes as the body; Content-Length is required.
func (f *Forge) githubUploadAsset(w http.ResponseWriter, r *http.Request) {
	key, owner, name, _, ok := f.githubReleaseRepo(w, r, true)
	if !ok {
		return
	}
	rel := f.findRelease(key, r.PathValue("id"))
	if rel == nil {
		githubError(w, http.StatusNotFound, githubNotFound)
		return
	}
	file := r.URL.Query().Get("name")
	switch {
	case file == "":
		githubValidation(w, "ReleaseAsset", "name", "missing_field", "")
		return
	case r.ContentLength < 0:
		githubError(w, http.StatusLengthRequired, "Content-Length required")
		return
	case r.ContentLength == 0:
		githubValidation(w, "ReleaseAsset", "size", "invalid", "")
		return
	case r.ContentLength > githubAssetLimit:
		githubValidation(w, "ReleaseAsset", "size", "too_large", "")
		return
	}
	for _, a := range f.assetList(rel) {
		if a.name == file {
			githubValidation(w, "ReleaseAsset", "name", "already_exists", "")
			return
		}
	}
	if f.failUpload(w, r, func(status int) { githubError(w, status, http.StatusText(status)) }) {
		return
	}
	a, err := f.storeAsset(r.Body, r.ContentLength)
	if err != nil {
		githubError(w, http.StatusBadRequest, "reading the upload: "+err.Error())
		return
	}
	if a.size != r.ContentLength {
		githubError(w, http.StatusBadRequest, "the body is shorter than its Content-Length")
		return
	}
	a.name, a.ctype, a.uploader = file, firstOf(r.Header.Get("Content-Type"), "application/octet-stream"), owner
	if msg := f.attach(rel, a); msg != "" {
		githubValidation(w, "ReleaseAsset", "name", "already_exists", "")
		return
	}
	writeJSON(w, http.StatusCreated, f.githubAssetJSON(owner, name, rel, a))
}
