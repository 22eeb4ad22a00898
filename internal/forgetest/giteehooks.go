package forgetest

import (
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// giteeHook is a repository webhook; guarded by apiState.mu.
type giteeHook struct {
	GiteeHook
	created    time.Time
	result     string // last delivery: "ok", an error or ""
	resultCode int    // HTTP status of the last delivery; 0 if none
}

// GiteeHook is a Gitee repository webhook as the forge keeps it.
type GiteeHook struct {
	ID                  int64
	URL                 string
	EncryptionType      int    // 0 password, 1 signature
	Password            string // the secret in both modes
	PushEvents          bool
	TagPushEvents       bool
	IssuesEvents        bool
	NoteEvents          bool
	MergeRequestsEvents bool
	// Tests counts test deliveries asked for with POST .../hooks/{id}/tests.
	Tests int
}

// GiteeHooks returns owner/name's webhooks, oldest first.
func (f *Forge) GiteeHooks(owner, name string) []GiteeHook {
	st := f.repo(owner, name)
	if st == nil {
		return nil
	}
	f.api.mu.Lock()
	defer f.api.mu.Unlock()
	out := make([]GiteeHook, len(st.hooks))
	for i, h := range st.hooks {
		out[i] = h.GiteeHook
	}
	return out
}

// giteeHookJSON is Gitee's hook object, plus the encryption_type it was
// created with.
type giteeHookJSON struct {
	ID                  int64  `json:"id"`
	URL                 string `json:"url"`
	CreatedAt           string `json:"created_at"`
	Password            string `json:"password"`
	ProjectID           int64  `json:"project_id"`
	Result              string `json:"result"`
	ResultCode          *int   `json:"result_code"`
	PushEvents          bool   `json:"push_events"`
	TagPushEvents       bool   `json:"tag_push_events"`
	IssuesEvents        bool   `json:"issues_events"`
	NoteEvents          bool   `json:"note_events"`
	MergeRequestsEvents bool   `json:"merge_requests_events"`
	EncryptionType      int    `json:"encryption_type"`
}

// json renders h; apiState.mu is held.
func (h *giteeHook) json(projectID int64) giteeHookJSON {
	out := giteeHookJSON{ID: h.ID, URL: h.URL, CreatedAt: h.created.Format(giteeTimeLayout),
		Password: h.Password, ProjectID: projectID, Result: h.result,
		PushEvents: h.PushEvents, TagPushEvents: h.TagPushEvents, IssuesEvents: h.IssuesEvents,
		NoteEvents: h.NoteEvents, MergeRequestsEvents: h.MergeRequestsEvents, EncryptionType: h.EncryptionType}
	if h.resultCode != 0 {
		code := h.resultCode
		out.ResultCode = &code
	}
	return out
}

// giteeHookRepo authenticates a hooks request and finds its repository, which
// the caller must administer (Write): 404 when it cannot see it, 403 when it
// only reads it.
func (f *Forge) giteeHookRepo(w http.ResponseWriter, r *http.Request) (*repoState, caller, url.Values, bool) {
	c, p, ok := f.giteeAuth(w, r, true)
	if !ok {
		return nil, c, nil, false
	}
	st, v, ok := f.giteeRepoFor(w, r, c)
	if !ok {
		return nil, c, nil, false
	}
	if f.access(c, v.owner, v.name) < Write {
		giteeError(w, http.StatusForbidden, giteeForbidden)
		return nil, c, nil, false
	}
	return st, c, p, true
}

// findHook returns the hook of the request's {id}, or answers 404. a.mu is
// not held.
func (f *Forge) findHook(w http.ResponseWriter, r *http.Request, st *repoState) (*giteeHook, bool) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	var found *giteeHook
	f.api.mu.Lock()
	for _, h := range st.hooks {
		if h.ID == id {
			found = h
		}
	}
	f.api.mu.Unlock()
	if found == nil {
		giteeError(w, http.StatusNotFound, "Not Found Hook")
		return nil, false
	}
	return found, true
}

// applyHook sets h's fields from p; defaults apply to fields p lacks. It
// reports a message for a bad url or encryption_type.
func applyHook(h *GiteeHook, p url.Values) string {
	raw := p.Get("url")
	u, err := url.Parse(raw)
	if raw == "" {
		return "url is missing"
	}
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "url is invalid"
	}
	h.URL = raw
	if p.Has("encryption_type") {
		switch p.Get("encryption_type") {
		case "0":
			h.EncryptionType = 0
		case "1":
			h.EncryptionType = 1
		default:
			return "encryption_type does not have a valid value"
		}
	}
	if p.Has("password") {
		h.Password = p.Get("password")
	}
	for key, field := range map[string]*bool{
		"push_events": &h.PushEvents, "tag_push_events": &h.TagPushEvents,
		"issues_events": &h.IssuesEvents, "note_events": &h.NoteEvents,
		"merge_requests_events": &h.MergeRequestsEvents,
	} {
		if v, ok := boolParam(p.Get(key)); ok {
			*field = v
		}
	}
	return ""
}

// giteeListHooks serves GET /repos/{owner}/{repo}/hooks, paginated.
func (f *Forge) giteeListHooks(w http.ResponseWriter, r *http.Request) {
	st, _, p, ok := f.giteeHookRepo(w, r)
	if !ok {
		return
	}
	f.api.mu.Lock()
	all := make([]giteeHookJSON, len(st.hooks))
	for i, h := range st.hooks {
		all[i] = h.json(st.id)
	}
	f.api.mu.Unlock()
	page, per := paging(p.Get, giteePerPage, giteeMaxPerPage)
	items, pages := pageOf(all, page, per)
	w.Header()["total_count"] = []string{strconv.Itoa(len(all))}
	w.Header()["total_page"] = []string{strconv.Itoa(pages)}
	writeJSON(w, http.StatusOK, items)
}

// giteeCreateHook serves POST /repos/{owner}/{repo}/hooks: url (required),
// encryption_type, password, and the *_events switches (push_events on by
// default, the others off). 201 with the hook.
func (f *Forge) giteeCreateHook(w http.ResponseWriter, r *http.Request) {
	st, _, p, ok := f.giteeHookRepo(w, r)
	if !ok {
		return
	}
	h := &giteeHook{GiteeHook: GiteeHook{PushEvents: true}, created: time.Now()}
	if msg := applyHook(&h.GiteeHook, p); msg != "" {
		giteeError(w, http.StatusBadRequest, msg)
		return
	}
	f.api.mu.Lock()
	f.api.nextHook++
	h.ID = f.api.nextHook
	st.hooks = append(st.hooks, h)
	out := h.json(st.id)
	f.api.mu.Unlock()
	writeJSON(w, http.StatusCreated, out)
}

// giteeGetHook serves GET /repos/{owner}/{repo}/hooks/{id}.
func (f *Forge) giteeGetHook(w http.ResponseWriter, r *http.Request) {
	st, _, _, ok := f.giteeHookRepo(w, r)
	if !ok {
		return
	}
	if h, ok := f.findHook(w, r, st); ok {
		f.api.mu.Lock()
		out := h.json(st.id)
		f.api.mu.Unlock()
		writeJSON(w, http.StatusOK, out)
	}
}

// giteePatchHook serves PATCH /repos/{owner}/{repo}/hooks/{id}: url is
// required as on create; other fields not given keep their values.
func (f *Forge) giteePatchHook(w http.ResponseWriter, r *http.Request) {
	st, _, p, ok := f.giteeHookRepo(w, r)
	if !ok {
		return
	}
	h, ok := f.findHook(w, r, st)
	if !ok {
		return
	}
	f.api.mu.Lock()
	next := h.GiteeHook
	msg := applyHook(&next, p)
	if msg == "" {
		h.GiteeHook = next
	}
	out := h.json(st.id)
	f.api.mu.Unlock()
	if msg != "" {
		giteeError(w, http.StatusBadRequest, msg)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// giteeDeleteHook serves DELETE /repos/{owner}/{repo}/hooks/{id}: 204.
func (f *Forge) giteeDeleteHook(w http.ResponseWriter, r *http.Request) {
	st, _, _, ok := f.giteeHookRepo(w, r)
	if !ok {
		return
	}
	h, ok := f.findHook(w, r, st)
	if !ok {
		return
	}
	f.api.mu.Lock()
	for i, x := range st.hooks {
		if x == h {
			st.hooks = append(st.hooks[:i:i], st.hooks[i+1:]...)
			break
		}
	}
	f.api.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// giteeTestHook serves POST /repos/{owner}/{repo}/hooks/{id}/tests: it
// counts the request and, when the hook's URL is on a loopback address,
// sends it a ping delivery (X-Gitee-Ping: true) of the default branch before
// answering 204. Other URLs are never contacted.
func (f *Forge) giteeTestHook(w http.ResponseWriter, r *http.Request) {
	st, _, _, ok := f.giteeHookRepo(w, r)
	if !ok {
		return
	}
	h, ok := f.findHook(w, r, st)
	if !ok {
		return
	}
	f.api.mu.Lock()
	h.Tests++
	f.api.mu.Unlock()
	v := f.view(st)
	ref := "refs/heads/" + v.meta.DefaultBranch
	head := f.refOID(v.owner, v.name, ref)
	f.deliverGitee(st, h, ref, head, head, true)
	w.WriteHeader(http.StatusNoContent)
}
