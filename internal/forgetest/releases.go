package forgetest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Releases live beside the bare repositories, one set per repository,
// served in GitHub's shape under /api/v3 (and /api/uploads for asset
// uploads) and in Gitee's under /api/v5. Asset bytes are files on disk,
// streamed in and out, so a test can move large assets without the forge's
// memory growing.

// DefaultGiteeAssetLimit is the per-file limit of Gitee's attach_files
// upload on free accounts (100 MB), as the forge applies it by default.
const DefaultGiteeAssetLimit = 100 << 20

// githubAssetLimit is GitHub's limit per release asset (2 GiB).
const githubAssetLimit = 2 << 30

// releaseState is the forge's releases; its own lock, never held with
// apiState.mu or Forge.mu.
type releaseState struct {
	mu         sync.Mutex
	dir        string
	nextID     int64
	byRepo     map[string][]*fakeRelease // "owner/name", oldest first
	giteeLimit int64
	failN      int // uploads still to fail
	failCode   int // 0: drop the connection mid-body
	stats      ReleaseStats
}

type fakeRelease struct {
	id         int64
	tag        string
	name       string
	body       string
	commitish  string
	draft      bool
	prerelease bool
	author     string
	created    time.Time
	assets     []*fakeAsset
}

type fakeAsset struct {
	id       int64
	name     string
	ctype    string
	size     int64
	sha256   string // hex
	path     string // the bytes
	secret   string // the storage URL's signature
	uploader string
	created  time.Time
}

// ReleaseSpec is a release to seed with AddRelease.
type ReleaseSpec struct {
	Tag        string
	Name       string
	Body       string
	Draft      bool
	Prerelease bool
}

// ReleaseInfo is a release as the forge holds it, for assertions.
type ReleaseInfo struct {
	ID int64
	ReleaseSpec
	Assets []AssetInfo
}

// AssetInfo is an asset as the forge holds it.
type AssetInfo struct {
	ID     int64
	Name   string
	Size   int64
	SHA256 string // hex digest of the stored bytes
}

// ReleaseStats counts asset traffic since New.
type ReleaseStats struct {
	Uploads       int   // asset uploads stored (either site)
	UploadedBytes int64 // bytes of those
	FailedUploads int   // uploads failed on purpose or refused
	Downloads     int   // asset bytes served (from storage)
	// StorageCredentials counts storage requests that carried a token
	// (Authorization header or access_token): a client must never send
	// one there. GitHub's storage refuses them; so does the forge's.
	StorageCredentials int
}

// initReleases registers the upload and storage routes; initAPIs calls it.
func (f *Forge) initReleases() {
	dir := filepath.Join(filepath.Dir(f.spool), "releases")
	if err := os.Mkdir(dir, 0o700); err != nil {
		f.t.Fatalf("forgetest: %v", err)
	}
	f.api.releases = &releaseState{dir: dir, byRepo: map[string][]*fakeRelease{}, giteeLimit: DefaultGiteeAssetLimit}
	up := http.NewServeMux()
	up.HandleFunc("POST /repos/{owner}/{repo}/releases/{id}/assets", f.githubUploadAsset)
	up.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { githubError(w, http.StatusNotFound, githubNotFound) })
	f.mux.Handle("/api/uploads/", f.apiHandler(siteGitHub, "/api/uploads", up))
	f.mux.HandleFunc("GET /_storage/{id}", f.serveStorage)
}

func (f *Forge) rel() *releaseState { return f.api.releases }

// SetGiteeAssetLimit changes the largest file Gitee's attach_files upload
// takes (default DefaultGiteeAssetLimit).
func (f *Forge) SetGiteeAssetLimit(n int64) {
	s := f.rel()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.giteeLimit = n
}

func (f *Forge) giteeAssetLimit() int64 {
	s := f.rel()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.giteeLimit
}

// FailAssetUploads makes the next n asset uploads (GitHub or Gitee) fail:
// with status (say 500 or 502) and the site's error body after the upload
// was read, or, with status 0, by closing the connection halfway through
// the body. n = 0 cancels what is pending.
func (f *Forge) FailAssetUploads(n, status int) {
	s := f.rel()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN, s.failCode = n, status
}

// takeUploadFailure returns whether this upload fails, and how.
func (f *Forge) takeUploadFailure() (fail bool, status int) {
	s := f.rel()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failN <= 0 {
		return false, 0
	}
	s.failN--
	s.stats.FailedUploads++
	return true, s.failCode
}

// ReleaseStats returns the asset counts since New.
func (f *Forge) ReleaseStats() ReleaseStats {
	s := f.rel()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// AddRelease seeds a release of owner/name (as if made on the site) and
// returns its id. The tag need not exist.
func (f *Forge) AddRelease(owner, name string, spec ReleaseSpec) int64 {
	f.t.Helper()
	if !f.exists(owner, name) {
		f.t.Fatalf("forgetest: AddRelease: no repository %s/%s", owner, name)
	}
	s := f.rel()
	s.mu.Lock()
	defer s.mu.Unlock()
	key := owner + "/" + name
	for _, r := range s.byRepo[key] {
		if r.tag == spec.Tag {
			f.t.Fatalf("forgetest: AddRelease: %s already has a release of tag %s", key, spec.Tag)
		}
	}
	s.nextID++
	r := &fakeRelease{id: s.nextID, tag: spec.Tag, name: spec.Name, body: spec.Body, draft: spec.Draft,
		prerelease: spec.Prerelease, author: owner, created: time.Now().UTC()}
	s.byRepo[key] = append(s.byRepo[key], r)
	return r.id
}

// EditRelease changes the name and notes of owner/name's release of tag.
func (f *Forge) EditRelease(owner, name, tag, title, body string) {
	f.t.Helper()
	s := f.rel()
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.byTag(owner+"/"+name, tag)
	if r == nil {
		f.t.Fatalf("forgetest: EditRelease: %s/%s has no release of tag %s", owner, name, tag)
	}
	r.name, r.body = title, body
}

// AddReleaseAsset stores the bytes of content as asset file of the release
// of tag, and returns its SHA-256 (hex).
func (f *Forge) AddReleaseAsset(owner, name, tag, file string, content io.Reader) string {
	f.t.Helper()
	s := f.rel()
	s.mu.Lock()
	r := s.byTag(owner+"/"+name, tag)
	s.mu.Unlock()
	if r == nil {
		f.t.Fatalf("forgetest: AddReleaseAsset: %s/%s has no release of tag %s", owner, name, tag)
	}
	a, err := f.storeAsset(content, -1)
	if err != nil {
		f.t.Fatalf("forgetest: AddReleaseAsset: %v", err)
	}
	a.name, a.ctype, a.uploader = file, "application/octet-stream", owner
	if msg := f.attach(r, a); msg != "" {
		f.t.Fatalf("forgetest: AddReleaseAsset: %s", msg)
	}
	return a.sha256
}

// Releases returns owner/name's releases, oldest first, with their assets.
func (f *Forge) Releases(owner, name string) []ReleaseInfo {
	s := f.rel()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ReleaseInfo
	for _, r := range s.byRepo[owner+"/"+name] {
		info := ReleaseInfo{ID: r.id, ReleaseSpec: ReleaseSpec{Tag: r.tag, Name: r.name, Body: r.body, Draft: r.draft, Prerelease: r.prerelease}}
		for _, a := range r.assets {
			info.Assets = append(info.Assets, AssetInfo{ID: a.id, Name: a.name, Size: a.size, SHA256: a.sha256})
		}
		out = append(out, info)
	}
	return out
}

// byTag finds a release by tag; s.mu is held.
func (s *releaseState) byTag(key, tag string) *fakeRelease {
	for _, r := range s.byRepo[key] {
		if r.tag == tag {
			return r
		}
	}
	return nil
}

// byID finds a release by id; s.mu is held.
func (s *releaseState) byID(key string, id int64) *fakeRelease {
	for _, r := range s.byRepo[key] {
		if r.id == id {
			return r
		}
	}
	return nil
}

// findRelease finds owner/name's release of the request's {id}.
func (f *Forge) findRelease(key, rawID string) *fakeRelease {
	id, err := strconv.ParseInt(rawID, 10, 64)
	if err != nil {
		return nil
	}
	s := f.rel()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byID(key, id)
}

// findAsset finds an asset by id in any release of key.
func (f *Forge) findAsset(key, rawID string) (*fakeRelease, *fakeAsset) {
	id, err := strconv.ParseInt(rawID, 10, 64)
	if err != nil {
		return nil, nil
	}
	s := f.rel()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.byRepo[key] {
		for _, a := range r.assets {
			if a.id == id {
				return r, a
			}
		}
	}
	return nil, nil
}

// assetList copies a release's assets.
func (f *Forge) assetList(r *fakeRelease) []*fakeAsset {
	s := f.rel()
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*fakeAsset(nil), r.assets...)
}

// storeAsset streams content to a new file, at most limit bytes (-1: no
// limit); over is reported by a nil asset and errTooLarge.
func (f *Forge) storeAsset(content io.Reader, limit int64) (*fakeAsset, error) {
	s := f.rel()
	file, err := os.CreateTemp(s.dir, "asset-")
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	src := content
	if limit >= 0 {
		src = io.LimitReader(content, limit+1)
	}
	n, err := io.Copy(io.MultiWriter(file, h), src)
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err == nil && limit >= 0 && n > limit {
		err = errTooLarge
	}
	if err != nil {
		os.Remove(file.Name())
		return nil, err
	}
	return &fakeAsset{size: n, sha256: hex.EncodeToString(h.Sum(nil)), path: file.Name(),
		secret: rand.Text(), created: time.Now().UTC()}, nil
}

type tooLarge struct{}

func (tooLarge) Error() string { return "file too large" }

var errTooLarge error = tooLarge{}

// attach adds a stored asset to r; it returns a message (and removes the
// file) when r already has an asset of that name.
func (f *Forge) attach(r *fakeRelease, a *fakeAsset) string {
	s := f.rel()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range r.assets {
		if b.name == a.name {
			os.Remove(a.path)
			return "an asset named " + a.name + " exists already"
		}
	}
	s.nextID++
	a.id = s.nextID
	r.assets = append(r.assets, a)
	s.stats.Uploads++
	s.stats.UploadedBytes += a.size
	return ""
}

// detach removes an asset from r and deletes its bytes.
func (f *Forge) detach(r *fakeRelease, a *fakeAsset) {
	s := f.rel()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, b := range r.assets {
		if b == a {
			r.assets = append(r.assets[:i], r.assets[i+1:]...)
			break
		}
	}
	os.Remove(a.path)
}

// storageURL is where an asset's bytes are served: on "localhost" rather
// than 127.0.0.1, so that it is another host than the APIs, as real
// storage is.
func (f *Forge) storageURL(a *fakeAsset) string {
	u, _ := url.Parse(f.BaseURL())
	return "http://localhost:" + u.Port() + "/_storage/" + strconv.FormatInt(a.id, 10) + "?sig=" + url.QueryEscape(a.secret)
}

// serveStorage serves an asset's bytes to a request with the right
// signature and no credentials.
func (f *Forge) serveStorage(w http.ResponseWriter, r *http.Request) {
	s := f.rel()
	if r.Header.Get("Authorization") != "" || r.URL.Query().Has("access_token") {
		s.mu.Lock()
		s.stats.StorageCredentials++
		s.mu.Unlock()
		http.Error(w, "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified", http.StatusBadRequest)
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	var found *fakeAsset
	s.mu.Lock()
	for _, rs := range s.byRepo {
		for _, rel := range rs {
			for _, a := range rel.assets {
				if a.id == id {
					found = a
				}
			}
		}
	}
	s.mu.Unlock()
	if found == nil || r.URL.Query().Get("sig") != found.secret {
		http.Error(w, "AccessDenied: Request has expired or the signature does not match", http.StatusForbidden)
		return
	}
	file, err := os.Open(found.path)
	if err != nil {
		http.Error(w, "NoSuchKey", http.StatusNotFound)
		return
	}
	defer file.Close()
	s.mu.Lock()
	s.stats.Downloads++
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(found.size, 10))
	w.Header().Set("Content-Disposition", "attachment; filename="+strconv.Quote(found.name))
	io.Copy(w, file)
}

// failUpload applies FailAssetUploads to an upload request: it reports
// whether it answered (or cut) the request.
func (f *Forge) failUpload(w http.ResponseWriter, r *http.Request, errBody func(status int)) bool {
	fail, status := f.takeUploadFailure()
	if !fail {
		return false
	}
	if status == 0 {
		half := max(r.ContentLength/2, 1)
		io.CopyN(io.Discard, r.Body, half)
		rc := http.NewResponseController(w)
		if conn, _, err := rc.Hijack(); err == nil {
			conn.Close()
		}
		return true
	}
	io.Copy(io.Discard, r.Body)
	errBody(status)
	return true
}

// hasTag reports whether owner/name has refs/tags/tag.
func (f *Forge) hasTag(owner, name, tag string) bool {
	if tag == "" || strings.Contains(tag, "..") {
		return false
	}
	_, err := runGit(f.home, f.RepoPath(owner, name), "rev-parse", "--verify", "-q", "refs/tags/"+tag)
	return err == nil
}
