package forgetest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// CheckRun is a check run as the forge keeps it.
type CheckRun struct {
	ID         int64
	Name       string
	HeadSHA    string
	Status     string // queued, in_progress, completed…
	Conclusion string // "" until completed
	DetailsURL string
	ExternalID string
	// Output.
	Title, Summary, Text   string
	StartedAt, CompletedAt time.Time // CompletedAt zero until completed
	AppID                  int64     // 0 for tokens from AddInstallationToken
	InstallationID         int64
	Updates                int // PATCH requests that changed it
	// Annotations sent with the output, in order, across requests.
	Annotations []CheckAnnotation
}

// CheckAnnotation is an annotation of a check run's output.
type CheckAnnotation struct {
	Path                  string
	StartLine, EndLine    int
	Level, Title, Message string
}

// CommitStatus is a commit status as the forge keeps it.
type CommitStatus struct {
	ID          int64
	SHA         string
	State       string // error, failure, pending or success
	TargetURL   string
	Description string
	Context     string
	Creator     string // the login that set it ("<slug>[bot]" for an App)
	CreatedAt   time.Time
}

// CheckRuns returns owner/repo's check runs, oldest first.
func (f *Forge) CheckRuns(owner, repo string) []CheckRun {
	f.api.mu.Lock()
	defer f.api.mu.Unlock()
	var out []CheckRun
	for _, cr := range f.api.apps.checkRuns[owner+"/"+repo] {
		out = append(out, *cr)
	}
	return out
}

// CommitStatuses returns owner/repo's commit statuses, oldest first.
func (f *Forge) CommitStatuses(owner, repo string) []CommitStatus {
	f.api.mu.Lock()
	defer f.api.mu.Unlock()
	var out []CommitStatus
	for _, s := range f.api.apps.statuses[owner+"/"+repo] {
		out = append(out, *s)
	}
	return out
}

// Check run words GitHub accepts.
var (
	checkStatuses    = []string{"queued", "in_progress", "completed", "waiting", "requested", "pending"}
	checkConclusions = []string{"action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out"}
	statusStates     = []string{"error", "failure", "pending", "success"}
)

// checkOutputMax is GitHub's limit on a check run's summary and text.
const checkOutputMax = 65535

// checkRunBody is the body of POST .../check-runs and PATCH .../check-runs/{id}.
type checkRunBody struct {
	Name        *string `json:"name"`
	HeadSHA     *string `json:"head_sha"`
	DetailsURL  *string `json:"details_url"`
	ExternalID  *string `json:"external_id"`
	Status      *string `json:"status"`
	Conclusion  *string `json:"conclusion"`
	StartedAt   *string `json:"started_at"`
	CompletedAt *string `json:"completed_at"`
	Output      *struct {
		Title       *string `json:"title"`
		Summary     *string `json:"summary"`
		Text        *string `json:"text"`
		Annotations []struct {
			Path            string `json:"path"`
			StartLine       int    `json:"start_line"`
			EndLine         int    `json:"end_line"`
			AnnotationLevel string `json:"annotation_level"`
			Title           string `json:"title"`
			Message         string `json:"message"`
		} `json:"annotations"`
	} `json:"output"`
}

// apply validates b and applies it to cr; field and msg describe a value
// GitHub would refuse (422).
func (b *checkRunBody) apply(cr *CheckRun, now time.Time) (field, msg string) {
	next := *cr
	if b.Name != nil {
		if *b.Name == "" {
			return "name", "name cannot be blank"
		}
		next.Name = *b.Name
	}
	if b.DetailsURL != nil {
		next.DetailsURL = *b.DetailsURL
	}
	if b.ExternalID != nil {
		next.ExternalID = *b.ExternalID
	}
	if b.Status != nil {
		if !slices.Contains(checkStatuses, *b.Status) {
			return "status", fmt.Sprintf("%q is not a valid status", *b.Status)
		}
		next.Status = *b.Status
	}
	if b.Conclusion != nil {
		if !slices.Contains(checkConclusions, *b.Conclusion) {
			return "conclusion", fmt.Sprintf("%q is not a valid conclusion", *b.Conclusion)
		}
		next.Conclusion, next.Status = *b.Conclusion, "completed"
	}
	if next.Status == "completed" && next.Conclusion == "" {
		return "conclusion", "conclusion is required when status is completed"
	}
	if next.Status != "completed" {
		next.Conclusion, next.CompletedAt = "", time.Time{}
	}
	for _, ts := range []struct {
		field string
		in    *string
		out   *time.Time
	}{{"started_at", b.StartedAt, &next.StartedAt}, {"completed_at", b.CompletedAt, &next.CompletedAt}} {
		if ts.in == nil {
			continue
		}
		t, err := time.Parse(time.RFC3339, *ts.in)
		if err != nil {
			return ts.field, fmt.Sprintf("%q is not an ISO 8601 timestamp", *ts.in)
		}
		*ts.out = t.UTC()
	}
	if next.Status == "completed" && next.CompletedAt.IsZero() {
		next.CompletedAt = now
	}
	if o := b.Output; o != nil {
		if o.Title == nil || o.Summary == nil {
			return "output", "output needs a title and a summary"
		}
		next.Title, next.Summary, next.Text = *o.Title, *o.Summary, ""
		if o.Text != nil {
			next.Text = *o.Text
		}
		if utf8.RuneCountInString(next.Summary) > checkOutputMax || utf8.RuneCountInString(next.Text) > checkOutputMax {
			return "output", "summary and text are limited to 65535 characters"
		}
		if len(o.Annotations) > 50 {
			return "output", "annotations are limited to 50 per request"
		}
		next.Annotations = slices.Clone(next.Annotations)
		for _, a := range o.Annotations {
			if a.Path == "" || a.StartLine < 1 || a.EndLine < a.StartLine || a.Message == "" ||
				!slices.Contains([]string{"notice", "warning", "failure"}, a.AnnotationLevel) {
				return "output", "an annotation needs a path, start_line >= 1, end_line >= start_line, a message and annotation_level notice, warning or failure"
			}
			next.Annotations = append(next.Annotations, CheckAnnotation{Path: a.Path, StartLine: a.StartLine, EndLine: a.EndLine,
				Level: a.AnnotationLevel, Title: a.Title, Message: a.Message})
		}
	}
	*cr = next
	return "", ""
}

// checksWriter authorises a check run change on the request's repository:
// only GitHub Apps with checks write on it may (users: 403).
func (f *Forge) checksWriter(w http.ResponseWriter, r *http.Request) (caller, repoView, bool) {
	c, ok := f.githubAuth(w, r, true)
	if !ok {
		return caller{}, repoView{}, false
	}
	_, v, ok := f.githubRepoFor(w, r, c)
	if !ok {
		return caller{}, repoView{}, false
	}
	if c.inst == nil {
		githubError(w, http.StatusForbidden, "You must authenticate via a GitHub App.")
		return caller{}, repoView{}, false
	}
	if !c.inst.covers(v.owner, v.name) || !c.inst.perms.allows("checks", "write") {
		githubError(w, http.StatusForbidden, githubNotIntegrations)
		return caller{}, repoView{}, false
	}
	return c, v, true
}

// noCommit answers GitHub's 422 for a commit that is not in the repository.
func noCommit(w http.ResponseWriter, sha string) {
	githubError(w, http.StatusUnprocessableEntity, "No commit found for SHA: "+sha)
}

// isObjectID reports whether s is a full SHA-1 or SHA-256 object id.
func isObjectID(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

// githubCreateCheckRun serves POST /repos/{owner}/{repo}/check-runs: name
// and head_sha (a commit of the repository) are required; a conclusion
// completes the run; a completed run needs a conclusion; output needs a
// title and a summary. 201 with the run.
func (f *Forge) githubCreateCheckRun(w http.ResponseWriter, r *http.Request) {
	c, v, ok := f.checksWriter(w, r)
	if !ok {
		return
	}
	var b checkRunBody
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		githubError(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	if b.Name == nil || *b.Name == "" {
		githubValidation(w, "CheckRun", "name", "missing_field", "name is required")
		return
	}
	if b.HeadSHA == nil || *b.HeadSHA == "" {
		githubValidation(w, "CheckRun", "head_sha", "missing_field", "head_sha is required")
		return
	}
	sha := *b.HeadSHA
	if oid, found := f.resolveCommit(f.RepoPath(v.owner, v.name), sha); !isObjectID(sha) || !found || oid != sha {
		noCommit(w, sha)
		return
	}
	now := time.Now().UTC().Truncate(time.Second)
	cr := &CheckRun{HeadSHA: sha, Status: "queued", StartedAt: now, AppID: c.inst.appID, InstallationID: c.inst.id}
	if field, msg := b.apply(cr, now); field != "" {
		githubValidation(w, "CheckRun", field, "invalid", msg)
		return
	}
	key := v.owner + "/" + v.name
	f.api.mu.Lock()
	f.api.apps.nextCheck++
	cr.ID = f.api.apps.nextCheck
	f.api.apps.checkRuns[key] = append(f.api.apps.checkRuns[key], cr)
	out := *cr
	f.api.mu.Unlock()
	writeJSON(w, http.StatusCreated, f.checkRunJSON(v.owner, v.name, out))
}

// findCheckRun returns check run {id} of owner/name, or nil. a.mu is held.
func (f *Forge) findCheckRun(owner, name, rawID string) *CheckRun {
	id, err := strconv.ParseInt(rawID, 10, 64)
	if err != nil {
		return nil
	}
	for _, cr := range f.api.apps.checkRuns[owner+"/"+name] {
		if cr.ID == id {
			return cr
		}
	}
	return nil
}

// githubUpdateCheckRun serves PATCH /repos/{owner}/{repo}/check-runs/{id}:
// the App that created the run may change it, with the rules of creation.
func (f *Forge) githubUpdateCheckRun(w http.ResponseWriter, r *http.Request) {
	c, v, ok := f.checksWriter(w, r)
	if !ok {
		return
	}
	var b checkRunBody
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		githubError(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	now := time.Now().UTC().Truncate(time.Second)
	f.api.mu.Lock()
	cr := f.findCheckRun(v.owner, v.name, r.PathValue("id"))
	var field, msg string
	var out CheckRun
	switch {
	case cr == nil:
	case cr.AppID != c.inst.appID:
		field = "-"
	default:
		if field, msg = b.apply(cr, now); field == "" {
			cr.Updates++
			out = *cr
		}
	}
	f.api.mu.Unlock()
	switch {
	case cr == nil:
		githubError(w, http.StatusNotFound, githubNotFound)
	case field == "-":
		githubError(w, http.StatusForbidden, githubNotIntegrations)
	case field != "":
		githubValidation(w, "CheckRun", field, "invalid", msg)
	default:
		writeJSON(w, http.StatusOK, f.checkRunJSON(v.owner, v.name, out))
	}
}

// githubGetCheckRun serves GET /repos/{owner}/{repo}/check-runs/{id}.
func (f *Forge) githubGetCheckRun(w http.ResponseWriter, r *http.Request) {
	c, ok := f.githubAuth(w, r, false)
	if !ok {
		return
	}
	_, v, ok := f.githubRepoFor(w, r, c)
	if !ok {
		return
	}
	f.api.mu.Lock()
	cr := f.findCheckRun(v.owner, v.name, r.PathValue("id"))
	var out CheckRun
	if cr != nil {
		out = *cr
	}
	f.api.mu.Unlock()
	if cr == nil {
		githubError(w, http.StatusNotFound, githubNotFound)
		return
	}
	writeJSON(w, http.StatusOK, f.checkRunJSON(v.owner, v.name, out))
}

// githubTime formats t for JSON, null when zero.
func githubTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(githubTimeLayout)
}

// orNull is s, or null when empty.
func orNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// checkRunJSON is GitHub's check run object.
func (f *Forge) checkRunJSON(owner, name string, cr CheckRun) map[string]any {
	api := strings.TrimSuffix(f.GitHubAPIURL(), "/")
	self := fmt.Sprintf("%s/repos/%s/%s/check-runs/%d", api, owner, name, cr.ID)
	f.api.mu.Lock()
	app := f.api.apps.apps[cr.AppID]
	f.api.mu.Unlock()
	var appJSON any
	if app != nil {
		appJSON = f.githubAppJSON(app)
	}
	return map[string]any{
		"id": cr.ID, "name": cr.Name, "node_id": nodeID("CR_kwDO", cr.ID), "head_sha": cr.HeadSHA,
		"external_id": cr.ExternalID, "url": self,
		"html_url":    fmt.Sprintf("%s/%s/%s/runs/%d", f.BaseURL(), owner, name, cr.ID),
		"details_url": orNull(cr.DetailsURL), "status": cr.Status, "conclusion": orNull(cr.Conclusion),
		"started_at": githubTime(cr.StartedAt), "completed_at": githubTime(cr.CompletedAt),
		"output": map[string]any{
			"title": orNull(cr.Title), "summary": orNull(cr.Summary), "text": orNull(cr.Text),
			"annotations_count": len(cr.Annotations), "annotations_url": self + "/annotations",
		},
		"check_suite":   map[string]any{"id": cr.InstallationID*1000 + cr.AppID},
		"app":           appJSON,
		"pull_requests": []any{},
	}
}

// githubCommitSub serves GET /repos/{owner}/{repo}/commits/{ref}/check-runs
// (check_name, status, filter latest (default: the newest run of each name)
// or all, app_id; newest first, paginated: {"total_count", "check_runs"}),
// .../statuses (newest first) and .../status (combined). ref is a branch,
// tag or commit id; one the repository lacks is refused (422).
// .../commits/{ref} alone is the commit itself (githubCommit).
func (f *Forge) githubCommitSub(w http.ResponseWriter, r *http.Request) {
	c, ok := f.githubAuth(w, r, false)
	if !ok {
		return
	}
	_, v, ok := f.githubRepoFor(w, r, c)
	if !ok {
		return
	}
	ref := r.PathValue("ref")
	what := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	if ref == "" {
		rest := r.PathValue("rest")
		i := strings.LastIndex(rest, "/")
		if i >= 0 {
			ref, what = rest[:i], rest[i+1:]
		}
		if i < 0 || what != "check-runs" && what != "statuses" && what != "status" {
			f.githubCommit(w, r, c, v, rest)
			return
		}
	}
	sha, found := f.resolveCommit(f.RepoPath(v.owner, v.name), ref)
	if !found {
		noCommit(w, ref)
		return
	}
	key := v.owner + "/" + v.name
	q := r.URL.Query()
	page, per := paging(q.Get, githubPerPage, githubMaxPerPage)
	link := func(pages int) {
		base := fmt.Sprintf("%s/repos/%s/commits/%s/%s", strings.TrimSuffix(f.GitHubAPIURL(), "/"), key, ref, what)
		if l := githubLink(base, r.URL.RawQuery, page, pages); l != "" {
			w.Header().Set("Link", l)
		}
	}
	switch what {
	case "check-runs":
		appID, _ := strconv.ParseInt(q.Get("app_id"), 10, 64)
		f.api.mu.Lock()
		var runs []CheckRun
		for _, cr := range f.api.apps.checkRuns[key] {
			if cr.HeadSHA == sha && (q.Get("check_name") == "" || cr.Name == q.Get("check_name")) &&
				(q.Get("status") == "" || cr.Status == q.Get("status")) && (appID == 0 || cr.AppID == appID) {
				runs = append(runs, *cr)
			}
		}
		f.api.mu.Unlock()
		slices.SortFunc(runs, func(a, b CheckRun) int { return cmp.Compare(b.ID, a.ID) })
		if q.Get("filter") != "all" {
			seen := map[string]bool{}
			runs = slices.DeleteFunc(runs, func(cr CheckRun) bool {
				k := fmt.Sprintf("%d/%s", cr.AppID, cr.Name)
				dup := seen[k]
				seen[k] = true
				return dup
			})
		}
		items, pages := pageOf(runs, page, per)
		link(pages)
		out := make([]map[string]any, len(items))
		for i, cr := range items {
			out[i] = f.checkRunJSON(v.owner, v.name, cr)
		}
		writeJSON(w, http.StatusOK, map[string]any{"total_count": len(runs), "check_runs": out})
	case "statuses", "status":
		f.api.mu.Lock()
		var sts []CommitStatus
		for _, s := range f.api.apps.statuses[key] {
			if s.SHA == sha {
				sts = append(sts, *s)
			}
		}
		f.api.mu.Unlock()
		slices.SortFunc(sts, func(a, b CommitStatus) int { return cmp.Compare(b.ID, a.ID) })
		if what == "status" {
			f.combinedStatus(w, v, sha, sts)
			return
		}
		items, pages := pageOf(sts, page, per)
		link(pages)
		out := make([]map[string]any, len(items))
		for i, s := range items {
			out[i] = f.statusJSON(v.owner, v.name, s)
		}
		writeJSON(w, http.StatusOK, out)
	}
}

// combinedStatus answers GET .../commits/{ref}/status: the newest status of
// each context; state failure if one is error or failure, else pending if
// one is pending or there are none, else success.
func (f *Forge) combinedStatus(w http.ResponseWriter, v repoView, sha string, newestFirst []CommitStatus) {
	seen := map[string]bool{}
	latest := []map[string]any{}
	state := "success"
	for _, s := range newestFirst {
		if seen[s.Context] {
			continue
		}
		seen[s.Context] = true
		latest = append(latest, f.statusJSON(v.owner, v.name, s))
		switch {
		case s.State == "error" || s.State == "failure":
			state = "failure"
		case s.State == "pending" && state == "success":
			state = "pending"
		}
	}
	if len(latest) == 0 {
		state = "pending"
	}
	api := strings.TrimSuffix(f.GitHubAPIURL(), "/") + "/repos/" + v.owner + "/" + v.name
	repo := f.githubRepoJSON(&v, caller{})
	writeJSON(w, http.StatusOK, map[string]any{
		"state": state, "statuses": latest, "sha": sha, "total_count": len(latest),
		"repository": repo, "commit_url": api + "/commits/" + sha, "url": api + "/commits/" + sha + "/status",
	})
}

// statusJSON is GitHub's commit status object.
func (f *Forge) statusJSON(owner, name string, s CommitStatus) map[string]any {
	api := strings.TrimSuffix(f.GitHubAPIURL(), "/")
	created := s.CreatedAt.Format(githubTimeLayout)
	creator := githubAccountJSONFor(f, s.Creator)
	return map[string]any{
		"url": api + "/repos/" + owner + "/" + name + "/statuses/" + s.SHA, "avatar_url": creator.AvatarURL,
		"id": s.ID, "node_id": nodeID("SC_kwDO", s.ID), "state": s.State,
		"description": orNull(s.Description), "target_url": orNull(s.TargetURL), "context": s.Context,
		"created_at": created, "updated_at": created, "creator": creator,
	}
}

// githubAccountJSONFor renders login: a known account, or a bot.
func githubAccountJSONFor(f *Forge, login string) githubAccount {
	if acc, found := f.lookupAccount(login); found {
		return f.githubAccountJSON(acc)
	}
	out := f.githubAccountJSON(account{name: login})
	out.Type = "Bot"
	return out
}

// statusBody is the body of POST /repos/{owner}/{repo}/statuses/{sha}.
type statusBody struct {
	State       string `json:"state"`
	TargetURL   string `json:"target_url"`
	Description string `json:"description"`
	Context     string `json:"context"`
}

// githubCreateStatus serves POST /repos/{owner}/{repo}/statuses/{sha}:
// users with push access, or installations with statuses write; state error,
// failure, pending or success; context "default" when not given. 201.
func (f *Forge) githubCreateStatus(w http.ResponseWriter, r *http.Request) {
	c, ok := f.githubAuth(w, r, true)
	if !ok {
		return
	}
	_, v, ok := f.githubRepoFor(w, r, c)
	if !ok {
		return
	}
	creator := c.login
	if c.inst != nil {
		creator = c.inst.login
		if !c.inst.covers(v.owner, v.name) || !c.inst.perms.allows("statuses", "write") {
			githubError(w, http.StatusForbidden, githubNotIntegrations)
			return
		}
	} else if f.access(c, v.owner, v.name) < Write {
		githubError(w, http.StatusNotFound, githubNotFound)
		return
	}
	var b statusBody
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		githubError(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	if !slices.Contains(statusStates, b.State) {
		githubValidation(w, "Status", "state", "custom", "state is not included in the list")
		return
	}
	sha := r.PathValue("sha")
	if oid, found := f.resolveCommit(f.RepoPath(v.owner, v.name), sha); !found || oid != sha {
		noCommit(w, sha)
		return
	}
	if b.Context == "" {
		b.Context = "default"
	}
	key := v.owner + "/" + v.name
	s := &CommitStatus{SHA: sha, State: b.State, TargetURL: b.TargetURL, Description: b.Description,
		Context: b.Context, Creator: creator, CreatedAt: time.Now().UTC().Truncate(time.Second)}
	f.api.mu.Lock()
	f.api.apps.nextStatus++
	s.ID = f.api.apps.nextStatus
	f.api.apps.statuses[key] = append(f.api.apps.statuses[key], s)
	out := *s
	f.api.mu.Unlock()
	writeJSON(w, http.StatusCreated, f.statusJSON(v.owner, v.name, out))
}

// githubCommit serves GET /repos/{owner}/{repo}/commits/{ref}: with the
// sha media type (application/vnd.github.sha) the bare commit id, else the
// commit's sha and parents in JSON; 422 when ref names no commit.
// Installation tokens need contents read.
func (f *Forge) githubCommit(w http.ResponseWriter, r *http.Request, c caller, v repoView, ref string) {
	if c.inst != nil && !c.inst.perms.allows("contents", "read") {
		githubError(w, http.StatusForbidden, githubNotIntegrations)
		return
	}
	sha, found := f.resolveCommit(f.RepoPath(v.owner, v.name), ref)
	if !found {
		noCommit(w, ref)
		return
	}
	if strings.Contains(r.Header.Get("Accept"), "application/vnd.github.sha") ||
		strings.Contains(r.Header.Get("Accept"), "application/vnd.github.v3.sha") {
		w.Header().Set("Content-Type", "application/vnd.github.sha; charset=utf-8")
		_, _ = w.Write([]byte(sha))
		return
	}
	api := strings.TrimSuffix(f.GitHubAPIURL(), "/")
	writeJSON(w, http.StatusOK, map[string]any{"sha": sha, "node_id": "C_" + sha[:12],
		"url": fmt.Sprintf("%s/repos/%s/%s/commits/%s", api, v.owner, v.name, sha)})
}
