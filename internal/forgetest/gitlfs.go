package forgetest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// The forge serves the Git LFS API for every repository, as GitHub does and
// as paid Gitee accounts do (free Gitee accounts have none: DisableLFS):
//
//	POST {repo}.git/info/lfs/objects/batch   batch API, basic transfer
//	GET  {repo}.git/info/lfs/objects/{oid}   download (storage)
//	PUT  {repo}.git/info/lfs/objects/{oid}   upload (storage)
//	POST {repo}.git/info/lfs/verify          verify after upload
//
// The batch endpoint checks credentials like the Git endpoints (read to
// download, write to upload). Storage links carry a ticket in an
// Authorization header of the action, as real servers hand out signed
// links: storage accepts the ticket, or Git's own basic auth. Objects are
// kept as files, so large ones cost the test no memory.

const lfsMediaType = "application/vnd.git-lfs+json"

// lfsLinkLifetime is how long a storage link stays valid.
const lfsLinkLifetime = time.Hour

// LFSCorruption is how CorruptNextLFSDownloads spoils a download.
type LFSCorruption int

const (
	// LFSFlipByte sends the right number of bytes with the first one changed.
	LFSFlipByte LFSCorruption = iota
	// LFSExtraByte sends one byte more than the object, chunked, so that
	// only a client that counts while it reads can tell.
	LFSExtraByte
	// LFSShort sends one byte less, chunked.
	LFSShort
)

// LFSStats counts LFS requests since New or ResetLFSStats.
type LFSStats struct {
	Batches       int   // batch requests, answered or refused
	Downloads     int   // storage GETs served
	Uploads       int   // objects stored by a PUT
	Verifies      int   // verify requests
	DownloadBytes int64 // object bytes sent
	UploadBytes   int64 // object bytes stored
	// BasicAuthStorage counts storage requests that came with Git's basic
	// auth rather than the link's ticket.
	BasicAuthStorage int
}

type lfsTicket struct {
	repo, oid string
	write     bool
	expires   time.Time
}

type lfsState struct {
	mu          sync.Mutex
	dir         string
	disabled    map[string]int // "owner/repo" → batch status
	tickets     map[string]lfsTicket
	corrupt     []LFSCorruption
	failUploads []int
	expire      int
	stats       LFSStats
}

func (f *Forge) initLFS() {
	f.lfs = &lfsState{
		dir:      filepath.Join(filepath.Dir(f.repos), "lfs"),
		disabled: map[string]int{},
		tickets:  map[string]lfsTicket{},
	}
}

// DisableLFS makes owner/repo a repository without LFS: its batch endpoint
// answers status (404, 403 or 501 as sites do; 0 enables LFS again).
func (f *Forge) DisableLFS(owner, repo string, status int) {
	f.lfs.mu.Lock()
	defer f.lfs.mu.Unlock()
	if status == 0 {
		delete(f.lfs.disabled, owner+"/"+repo)
		return
	}
	f.lfs.disabled[owner+"/"+repo] = status
}

// CorruptNextLFSDownloads spoils the next len(how) object downloads, one
// way each, in order.
func (f *Forge) CorruptNextLFSDownloads(how ...LFSCorruption) {
	f.lfs.mu.Lock()
	defer f.lfs.mu.Unlock()
	f.lfs.corrupt = append(f.lfs.corrupt, how...)
}

// FailNextLFSUploads makes the next n object uploads answer status without
// storing anything.
func (f *Forge) FailNextLFSUploads(n, status int) {
	f.lfs.mu.Lock()
	defer f.lfs.mu.Unlock()
	for range n {
		f.lfs.failUploads = append(f.lfs.failUploads, status)
	}
}

// ExpireNextLFSLinks makes the next n storage links the batch endpoint
// hands out already expired: their expires_at is past and storage refuses
// their tickets.
func (f *Forge) ExpireNextLFSLinks(n int) {
	f.lfs.mu.Lock()
	defer f.lfs.mu.Unlock()
	f.lfs.expire += n
}

// LFSStats returns the LFS counts.
func (f *Forge) LFSStats() LFSStats {
	f.lfs.mu.Lock()
	defer f.lfs.mu.Unlock()
	return f.lfs.stats
}

// ResetLFSStats sets the LFS counts to zero.
func (f *Forge) ResetLFSStats() {
	f.lfs.mu.Lock()
	defer f.lfs.mu.Unlock()
	f.lfs.stats = LFSStats{}
}

// LFSObjects lists the LFS objects stored for owner/repo: oid → size.
func (f *Forge) LFSObjects(owner, repo string) map[string]int64 {
	f.t.Helper()
	out := map[string]int64{}
	entries, err := os.ReadDir(filepath.Join(f.lfs.dir, owner, repo))
	if os.IsNotExist(err) {
		return out
	}
	if err != nil {
		f.t.Fatalf("forgetest: %v", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "tmp-") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			f.t.Fatalf("forgetest: %v", err)
		}
		out[e.Name()] = info.Size()
	}
	return out
}

// LFSObjectPath is where the object oid of owner/repo is (or would be) kept.
func (f *Forge) LFSObjectPath(owner, repo, oid string) string {
	return filepath.Join(f.lfs.dir, owner, repo, oid)
}

// PutLFSObject stores data as an LFS object of owner/repo, as if it had
// been uploaded, and returns its oid.
func (f *Forge) PutLFSObject(owner, repo string, data []byte) string {
	f.t.Helper()
	sum := sha256.Sum256(data)
	oid := hex.EncodeToString(sum[:])
	path := f.LFSObjectPath(owner, repo, oid)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		f.t.Fatalf("forgetest: %v", err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		f.t.Fatalf("forgetest: %v", err)
	}
	return oid
}

// lfsRoute splits /{owner}/{repo}[.git]/info/lfs/{rest}.
func lfsRoute(path string) (owner, repo, rest string, ok bool) {
	parts := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 5)
	if len(parts) != 5 || parts[2] != "info" || parts[3] != "lfs" {
		return "", "", "", false
	}
	owner, repo = parts[0], strings.TrimSuffix(parts[1], ".git")
	if !validName(owner) || !validName(repo) {
		return "", "", "", false
	}
	return owner, repo, parts[4], true
}

// serveLFS answers the LFS routes; serveGit hands them over.
func (f *Forge) serveLFS(w http.ResponseWriter, r *http.Request, owner, repo, rest string) {
	switch {
	case rest == "objects/batch" && r.Method == http.MethodPost:
		f.lfsBatch(w, r, owner, repo)
	case rest == "verify" && r.Method == http.MethodPost:
		f.lfsVerify(w, r, owner, repo)
	case strings.HasPrefix(rest, "objects/") && validOID(strings.TrimPrefix(rest, "objects/")):
		oid := strings.TrimPrefix(rest, "objects/")
		switch r.Method {
		case http.MethodGet:
			f.lfsDownload(w, r, owner, repo, oid)
		case http.MethodPut:
			f.lfsUpload(w, r, owner, repo, oid)
		default:
			lfsError(w, http.StatusMethodNotAllowed, "method not allowed")
		}
	default:
		// Includes the locking API (locks/verify), which the forge lacks.
		lfsError(w, http.StatusNotFound, "Not found")
	}
}

func lfsError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", lfsMediaType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

func validOID(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

type lfsObject struct {
	OID     string               `json:"oid"`
	Size    int64                `json:"size"`
	Actions map[string]lfsAction `json:"actions,omitempty"`
	Error   *lfsObjectError      `json:"error,omitempty"`
}

type lfsAction struct {
	Href      string            `json:"href"`
	Header    map[string]string `json:"header,omitempty"`
	ExpiresAt time.Time         `json:"expires_at"`
}

type lfsObjectError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (f *Forge) lfsBatch(w http.ResponseWriter, r *http.Request, owner, repo string) {
	f.lfs.mu.Lock()
	f.lfs.stats.Batches++
	status := f.lfs.disabled[owner+"/"+repo]
	f.lfs.mu.Unlock()
	if status != 0 {
		lfsError(w, status, "Git LFS is not enabled for this repository")
		return
	}
	if !strings.Contains(r.Header.Get("Accept"), lfsMediaType) {
		lfsError(w, http.StatusNotAcceptable, "Accept must be "+lfsMediaType)
		return
	}
	var req struct {
		Operation string      `json:"operation"`
		Transfers []string    `json:"transfers"`
		Objects   []lfsObject `json:"objects"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		lfsError(w, http.StatusUnprocessableEntity, "invalid batch request: "+err.Error())
		return
	}
	need := Read
	switch req.Operation {
	case "download":
	case "upload":
		need = Write
	default:
		lfsError(w, http.StatusUnprocessableEntity, "unknown operation")
		return
	}
	if len(req.Transfers) > 0 && !contains(req.Transfers, "basic") {
		lfsError(w, http.StatusUnprocessableEntity, "only the basic transfer is supported")
		return
	}
	if _, ok := f.authorize(w, r, owner, repo, need); !ok {
		return
	}
	base := f.srv.URL + "/" + owner + "/" + repo + ".git/info/lfs/"
	out := make([]lfsObject, 0, len(req.Objects))
	for _, o := range req.Objects {
		res := lfsObject{OID: o.OID, Size: o.Size}
		size, have := f.lfsSize(owner, repo, o.OID)
		switch {
		case !validOID(o.OID) || o.Size < 0:
			res.Error = &lfsObjectError{Code: http.StatusUnprocessableEntity, Message: "invalid object"}
		case req.Operation == "download" && !have:
			res.Error = &lfsObjectError{Code: http.StatusNotFound, Message: "Object does not exist"}
		case req.Operation == "download":
			res.Size = size
			res.Actions = map[string]lfsAction{"download": f.lfsLink(base+"objects/"+o.OID, owner+"/"+repo, o.OID, false)}
		case have && size == o.Size:
			// Already stored: no actions, as the batch API says.
		default:
			res.Actions = map[string]lfsAction{
				"upload": f.lfsLink(base+"objects/"+o.OID, owner+"/"+repo, o.OID, true),
				"verify": f.lfsLink(base+"verify", owner+"/"+repo, o.OID, true),
			}
		}
		out = append(out, res)
	}
	w.Header().Set("Content-Type", lfsMediaType)
	_ = json.NewEncoder(w).Encode(map[string]any{"transfer": "basic", "objects": out, "hash_algo": "sha256"})
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// lfsLink makes a storage link with a fresh ticket.
func (f *Forge) lfsLink(href, repo, oid string, write bool) lfsAction {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	ticket := "lfs-ticket-" + hex.EncodeToString(b)
	expires := time.Now().Add(lfsLinkLifetime).UTC().Truncate(time.Second)
	f.lfs.mu.Lock()
	if f.lfs.expire > 0 {
		f.lfs.expire--
		expires = time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	}
	f.lfs.tickets[ticket] = lfsTicket{repo: repo, oid: oid, write: write, expires: expires}
	f.lfs.mu.Unlock()
	return lfsAction{Href: href, Header: map[string]string{"Authorization": "RemoteAuth " + ticket}, ExpiresAt: expires}
}

// lfsAllowed checks a storage request: a valid ticket for this object, or
// Git's basic auth with enough access. It writes the refusal itself.
func (f *Forge) lfsAllowed(w http.ResponseWriter, r *http.Request, owner, repo, oid string, write bool) bool {
	for _, h := range r.Header.Values("Authorization") {
		ticket, ok := strings.CutPrefix(h, "RemoteAuth ")
		if !ok {
			continue
		}
		f.lfs.mu.Lock()
		t, found := f.lfs.tickets[ticket]
		f.lfs.mu.Unlock()
		if found && t.repo == owner+"/"+repo && t.oid == oid && t.write == write && time.Now().Before(t.expires) {
			return true
		}
		lfsError(w, http.StatusUnauthorized, "the link's ticket is invalid or expired")
		return false
	}
	need := Read
	if write {
		need = Write
	}
	if _, ok := f.authorize(w, r, owner, repo, need); !ok {
		return false
	}
	f.lfs.mu.Lock()
	f.lfs.stats.BasicAuthStorage++
	f.lfs.mu.Unlock()
	return true
}

func (f *Forge) lfsSize(owner, repo, oid string) (int64, bool) {
	if !validOID(oid) {
		return 0, false
	}
	info, err := os.Stat(f.LFSObjectPath(owner, repo, oid))
	if err != nil {
		return 0, false
	}
	return info.Size(), true
}

func (f *Forge) lfsDownload(w http.ResponseWriter, r *http.Request, owner, repo, oid string) {
	if !f.lfsAllowed(w, r, owner, repo, oid, false) {
		return
	}
	file, err := os.Open(f.LFSObjectPath(owner, repo, oid))
	if err != nil {
		lfsError(w, http.StatusNotFound, "Object does not exist")
		return
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil {
		lfsError(w, http.StatusInternalServerError, err.Error())
		return
	}
	f.lfs.mu.Lock()
	f.lfs.stats.Downloads++
	f.lfs.stats.DownloadBytes += info.Size()
	spoil := LFSCorruption(-1)
	if len(f.lfs.corrupt) > 0 {
		spoil, f.lfs.corrupt = f.lfs.corrupt[0], f.lfs.corrupt[1:]
	}
	f.lfs.mu.Unlock()
	w.Header().Set("Content-Type", "application/octet-stream")
	switch spoil {
	case LFSFlipByte:
		w.Header().Set("Content-Length", fmt.Sprint(info.Size()))
		first := make([]byte, 1)
		if _, err := io.ReadFull(file, first); err == nil {
			first[0] ^= 0xff
			_, _ = w.Write(first)
		}
		_, _ = io.Copy(w, file)
	case LFSExtraByte:
		_, _ = io.Copy(w, file)
		_, _ = w.Write([]byte{'!'})
	case LFSShort:
		_, _ = io.Copy(w, io.LimitReader(file, info.Size()-1))
	default:
		http.ServeContent(w, r, "", time.Time{}, file)
	}
}

func (f *Forge) lfsUpload(w http.ResponseWriter, r *http.Request, owner, repo, oid string) {
	if !f.lfsAllowed(w, r, owner, repo, oid, true) {
		return
	}
	f.lfs.mu.Lock()
	fail := 0
	if len(f.lfs.failUploads) > 0 {
		fail, f.lfs.failUploads = f.lfs.failUploads[0], f.lfs.failUploads[1:]
	}
	f.lfs.mu.Unlock()
	if fail != 0 {
		lfsError(w, fail, "storage failed (forgetest)")
		return
	}
	dir := filepath.Join(f.lfs.dir, owner, repo)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		lfsError(w, http.StatusInternalServerError, err.Error())
		return
	}
	tmp, err := os.CreateTemp(dir, "tmp-")
	if err != nil {
		lfsError(w, http.StatusInternalServerError, err.Error())
		return
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), r.Body)
	tmp.Close()
	if err != nil {
		lfsError(w, http.StatusBadRequest, "reading the object: "+err.Error())
		return
	}
	if r.ContentLength >= 0 && n != r.ContentLength || hex.EncodeToString(h.Sum(nil)) != oid {
		lfsError(w, http.StatusUnprocessableEntity, "the object's data does not match its oid")
		return
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, oid)); err != nil {
		lfsError(w, http.StatusInternalServerError, err.Error())
		return
	}
	f.lfs.mu.Lock()
	f.lfs.stats.Uploads++
	f.lfs.stats.UploadBytes += n
	f.lfs.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (f *Forge) lfsVerify(w http.ResponseWriter, r *http.Request, owner, repo string) {
	var o lfsObject
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&o); err != nil || !validOID(o.OID) {
		lfsError(w, http.StatusUnprocessableEntity, "invalid verify request")
		return
	}
	if !f.lfsAllowed(w, r, owner, repo, o.OID, true) {
		return
	}
	f.lfs.mu.Lock()
	f.lfs.stats.Verifies++
	f.lfs.mu.Unlock()
	size, ok := f.lfsSize(owner, repo, o.OID)
	switch {
	case !ok:
		lfsError(w, http.StatusNotFound, "Object does not exist")
	case size != o.Size:
		lfsError(w, http.StatusUnprocessableEntity, "Object size mismatch")
	default:
		w.Header().Set("Content-Type", lfsMediaType)
		w.WriteHeader(http.StatusOK)
	}
}
