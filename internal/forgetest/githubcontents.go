package forgetest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
)

// GitHub's contents API limits: files up to 1 MB come with their content;
// larger ones (up to 100 MB) with encoding "none" and no content.
const (
	contentsInline = 1 << 20
	contentsMax    = 100 << 20
)

// treeEntry is one line of git ls-tree -l.
type treeEntry struct {
	mode string
	typ  string // blob, tree or commit
	oid  string
	size int64
	path string
}

// kind is the contents API's type for the entry.
func (e treeEntry) kind() string {
	switch {
	case e.typ == "tree":
		return "dir"
	case e.typ == "commit":
		return "submodule"
	case e.mode == "120000":
		return "symlink"
	}
	return "file"
}

// gitBytes runs git in dir with extra environment and returns its standard
// output untouched.
func gitBytes(home, dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(gitEnv(home), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// lsTree lists entries of commit matching pathspec (literal; "" for the
// root directory's entries).
func (f *Forge) lsTree(dir, commit, pathspec string) ([]treeEntry, error) {
	args := []string{"ls-tree", "-z", "-l", commit}
	if pathspec != "" {
		args = append(args, "--", pathspec)
	}
	out, err := gitBytes(f.home, dir, []string{"GIT_LITERAL_PATHSPECS=1"}, args...)
	if err != nil {
		return nil, err
	}
	var entries []treeEntry
	for _, rec := range bytes.Split(out, []byte{0}) {
		meta, path, ok := bytes.Cut(rec, []byte{'\t'})
		fields := strings.Fields(string(meta))
		if !ok || len(fields) != 4 {
			continue
		}
		size, _ := strconv.ParseInt(fields[3], 10, 64) // "-" for trees
		entries = append(entries, treeEntry{mode: fields[0], typ: fields[1], oid: fields[2], size: size, path: string(path)})
	}
	return entries, nil
}

// resolveCommit resolves a branch, tag or commit id to a commit id.
func (f *Forge) resolveCommit(dir, rev string) (string, bool) {
	if rev == "" || strings.HasPrefix(rev, "-") {
		return "", false
	}
	out, err := runGit(f.home, dir, "rev-parse", "--verify", "-q", rev+"^{commit}")
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(out), true
}

// base64Lines encodes b as GitHub's contents API does (Ruby's encode64): a
// line break after every 60 characters and at the end.
func base64Lines(b []byte) string {
	s := base64.StdEncoding.EncodeToString(b)
	var out strings.Builder
	for len(s) > 0 {
		n := min(60, len(s))
		out.WriteString(s[:n])
		out.WriteByte('\n')
		s = s[n:]
	}
	return out.String()
}

// wantsRaw reports whether the request asks for raw file contents.
func wantsRaw(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "application/vnd.github.raw") || strings.Contains(accept, "application/vnd.github.v3.raw")
}

// githubContents serves GET /repos/{owner}/{repo}/contents/{path}?ref=: a
// file (type "file", base64 content in 60-character lines, the blob's sha),
// a symlink (type "symlink", target), a submodule, or a directory (an array
// of entries, submodules typed "file" as GitHub does). ref is a branch, tag
// or commit; the default branch without it. The raw media type
// (application/vnd.github.raw) answers a file's bytes. Installation tokens
// need contents read on repositories they cover.
func (f *Forge) githubContents(w http.ResponseWriter, r *http.Request) {
	c, ok := f.githubAuth(w, r, false)
	if !ok {
		return
	}
	_, v, ok := f.githubRepoFor(w, r, c)
	if !ok {
		return
	}
	if c.inst != nil && c.inst.covers(v.owner, v.name) && !c.inst.perms.allows("contents", "read") {
		githubError(w, http.StatusForbidden, githubNotIntegrations)
		return
	}
	path := strings.Trim(r.PathValue("path"), "/")
	for _, seg := range strings.Split(path, "/") {
		if seg == "." || seg == ".." || (seg == "" && path != "") {
			githubError(w, http.StatusNotFound, githubNotFound)
			return
		}
	}
	dir := f.RepoPath(v.owner, v.name)
	ref := r.URL.Query().Get("ref")
	rev := ref
	if ref == "" {
		if v.empty {
			githubError(w, http.StatusNotFound, "This repository is empty.")
			return
		}
		ref, rev = v.meta.DefaultBranch, "HEAD"
	}
	commit, found := f.resolveCommit(dir, rev)
	if !found {
		githubError(w, http.StatusNotFound, "No commit found for the ref "+ref)
		return
	}
	entries, err := f.lsTree(dir, commit, path)
	if err != nil {
		githubError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if path != "" && (len(entries) != 1 || entries[0].path != path) {
		githubError(w, http.StatusNotFound, githubNotFound)
		return
	}
	if path == "" || entries[0].typ == "tree" {
		spec := ""
		if path != "" {
			spec = path + "/"
		}
		if entries, err = f.lsTree(dir, commit, spec); err != nil {
			githubError(w, http.StatusInternalServerError, err.Error())
			return
		}
		out := make([]map[string]any, len(entries))
		for i, e := range entries {
			out[i] = f.contentJSON(v.owner, v.name, ref, e)
			if out[i]["type"] == "submodule" {
				out[i]["type"] = "file"
			}
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	e := entries[0]
	out := f.contentJSON(v.owner, v.name, ref, e)
	switch e.kind() {
	case "file", "symlink":
		if e.size > contentsMax {
			githubError(w, http.StatusForbidden, "This API returns blobs up to 100 MB in size. The requested blob is too large to fetch via the API, but you can use the Git Data API to request blobs up to 100 MB in size.")
			return
		}
		blob, err := gitBytes(f.home, dir, nil, "cat-file", "blob", e.oid)
		if err != nil {
			githubError(w, http.StatusInternalServerError, err.Error())
			return
		}
		if e.kind() == "symlink" {
			out["target"] = string(blob)
			break
		}
		if wantsRaw(r) {
			w.Header().Set("Content-Type", "application/vnd.github.raw; charset=utf-8")
			w.Header().Set("Content-Length", strconv.Itoa(len(blob)))
			w.WriteHeader(http.StatusOK)
			w.Write(blob)
			return
		}
		if e.size > contentsInline {
			out["content"], out["encoding"] = "", "none"
		} else {
			out["content"], out["encoding"] = base64Lines(blob), "base64"
		}
	case "submodule":
		out["submodule_git_url"] = nil
	}
	writeJSON(w, http.StatusOK, out)
}

// contentJSON is GitHub's content object without content.
func (f *Forge) contentJSON(owner, name, ref string, e treeEntry) map[string]any {
	api := strings.TrimSuffix(f.GitHubAPIURL(), "/")
	full := owner + "/" + name
	escaped := (&url.URL{Path: e.path}).EscapedPath()
	self := api + "/repos/" + full + "/contents/" + escaped + "?ref=" + url.QueryEscape(ref)
	kind := e.kind()
	gitKind, htmlKind := "blobs", "blob"
	if kind == "dir" {
		gitKind, htmlKind = "trees", "tree"
	}
	var gitURL, htmlURL, download any
	gitURL = api + "/repos/" + full + "/git/" + gitKind + "/" + e.oid
	htmlURL = f.BaseURL() + "/" + full + "/" + htmlKind + "/" + ref + "/" + escaped
	if kind == "file" || kind == "symlink" {
		download = f.BaseURL() + "/" + full + "/raw/" + ref + "/" + escaped
	}
	if kind == "submodule" {
		gitURL, htmlURL = nil, nil
	}
	size := e.size
	if kind == "dir" || kind == "submodule" {
		size = 0
	}
	base := e.path[strings.LastIndex(e.path, "/")+1:]
	return map[string]any{
		"type": kind, "size": size, "name": base, "path": e.path, "sha": e.oid,
		"url": self, "git_url": gitURL, "html_url": htmlURL, "download_url": download,
		"_links": map[string]any{"self": self, "git": gitURL, "html": htmlURL},
	}
}
