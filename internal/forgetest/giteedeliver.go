package forgetest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// zeroOID stands for a missing side of a ref update.
var zeroOID = strings.Repeat("0", 40)

// giteeMaxCommits is how many commits a push delivery lists.
const giteeMaxCommits = 10

// GiteeDelivery is the outcome of one webhook delivery.
type GiteeDelivery struct {
	HookID int64
	URL    string
	Event  string // "Push Hook" or "Tag Push Hook"
	Ping   bool   // a test delivery
	Status int    // the receiver's HTTP status; 0 when there was no answer
	Err    error  // why there was no answer (or the URL was not loopback)
}

// DeliverGiteePush sends owner/name's webhooks what Gitee sends after a push
// of ref from before to after (full object ids; "" or all zeros for a
// created or deleted ref): a "Push Hook" delivery to every hook with
// push_events for a branch, a "Tag Push Hook" delivery to every hook with
// tag_push_events for a tag. Headers are Gitee's (X-Gitee-Event,
// X-Gitee-Token, X-Gitee-Timestamp, X-Gitee-Ping: false, User-Agent
// git-oschina-hook); X-Gitee-Token is the password itself or, for hooks in
// signature mode, base64(HMAC-SHA256(password, timestamp+"\n"+password)).
// The body lists up to 10 commits of before..after read from the repository.
// Only loopback URLs are contacted; deliveries to others fail with an error.
// Deliveries are sequential and their outcomes returned in hook order.
func (f *Forge) DeliverGiteePush(owner, name, ref, before, after string) []GiteeDelivery {
	f.t.Helper()
	st := f.repo(owner, name)
	if st == nil {
		f.t.Fatalf("forgetest: DeliverGiteePush: no repository %s/%s", owner, name)
	}
	tag := strings.HasPrefix(ref, "refs/tags/")
	f.api.mu.Lock()
	var hooks []*giteeHook
	for _, h := range st.hooks {
		if (tag && h.TagPushEvents) || (!tag && h.PushEvents) {
			hooks = append(hooks, h)
		}
	}
	f.api.mu.Unlock()
	out := make([]GiteeDelivery, 0, len(hooks))
	for _, h := range hooks {
		out = append(out, f.deliverGitee(st, h, ref, before, after, false))
	}
	return out
}

// refOID is ref's object id in owner/name, or zeroOID.
func (f *Forge) refOID(owner, name, ref string) string {
	out, err := runGit(f.home, f.RepoPath(owner, name), "rev-parse", "-q", "--verify", ref+"^{}")
	if err != nil {
		return zeroOID
	}
	return strings.TrimSpace(out)
}

// giteeSign is Gitee's signature-mode token.
func giteeSign(secret, timestamp string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp + "\n" + secret))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// deliveryClient posts deliveries; it never follows redirects.
var deliveryClient = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// deliverGitee sends one delivery to h and records its outcome on h.
func (f *Forge) deliverGitee(st *repoState, h *giteeHook, ref, before, after string, ping bool) GiteeDelivery {
	f.api.mu.Lock()
	hook := h.GiteeHook
	f.api.mu.Unlock()
	event, hookName := "Push Hook", "push_hooks"
	if strings.HasPrefix(ref, "refs/tags/") {
		event, hookName = "Tag Push Hook", "tag_push_hooks"
	}
	d := GiteeDelivery{HookID: hook.ID, URL: hook.URL, Event: event, Ping: ping}
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	token := hook.Password
	body := f.giteePushPayload(st, ref, before, after)
	body["hook_id"], body["hook_name"], body["hook_url"] = hook.ID, hookName, hook.URL
	body["timestamp"] = ts
	if hook.EncryptionType == 1 {
		token = giteeSign(hook.Password, ts)
		body["sign"], body["password"] = token, ""
	} else {
		body["sign"], body["password"] = "", hook.Password
	}
	if !loopback(hook.URL) {
		d.Err = fmt.Errorf("forgetest delivers only to loopback addresses, not %s", hook.URL)
	} else {
		d.Status, d.Err = postDelivery(hook.URL, body, map[string]string{
			"X-Gitee-Event": event, "X-Git-Oschina-Event": event,
			"X-Gitee-Token": token, "X-Gitee-Timestamp": ts,
			"X-Gitee-Ping": strconv.FormatBool(ping), "User-Agent": "git-oschina-hook",
		})
	}
	f.api.mu.Lock()
	h.resultCode, h.result = d.Status, "ok"
	if d.Err != nil {
		h.result = d.Err.Error()
	}
	f.api.mu.Unlock()
	return d
}

// loopback reports whether raw is an http(s) URL on a loopback host.
func loopback(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// postDelivery POSTs body as JSON with headers and returns the status.
func postDelivery(target string, body any, headers map[string]string) (int, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := deliveryClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// giteePushPayload builds the body of a push delivery, without the hook's
// own fields.
func (f *Forge) giteePushPayload(st *repoState, ref, before, after string) map[string]any {
	if before == "" {
		before = zeroOID
	}
	if after == "" {
		after = zeroOID
	}
	v := f.view(st)
	repo := f.giteeRepoJSON(&v, caller{})
	full := v.owner + "/" + v.name
	hookRepo := struct {
		giteeRepo
		PathWithNamespace string `json:"path_with_namespace"`
		NameWithNamespace string `json:"name_with_namespace"`
		CloneURL          string `json:"clone_url"`
		GitHTTPURL        string `json:"git_http_url"`
		GitSSHURL         string `json:"git_ssh_url"`
	}{repo, full, repo.HumanName, f.GitURL(v.owner, v.name), f.GitURL(v.owner, v.name), repo.SSHURL}
	sender := map[string]any{"id": repo.Owner.ID, "login": repo.Owner.Login, "name": repo.Owner.Name,
		"username": repo.Owner.Login, "user_name": repo.Owner.Login, "url": repo.Owner.HTMLURL}
	commits, total := f.giteeCommits(v.owner, v.name, before, after)
	var head any
	if len(commits) > 0 {
		head = commits[0]
	}
	return map[string]any{
		"ref": ref, "before": before, "after": after,
		"created": before == zeroOID, "deleted": after == zeroOID,
		"compare":             f.BaseURL() + "/" + full + "/compare/" + before + "..." + after,
		"commits":             commits,
		"head_commit":         head,
		"total_commits_count": total, "commits_more_than_ten": total > giteeMaxCommits,
		"repository": hookRepo, "project": hookRepo,
		"user_id": repo.Owner.ID, "user_name": repo.Owner.Login,
		"user": sender, "pusher": sender, "sender": sender,
		"enterprise": nil,
	}
}

// giteeCommits lists up to giteeMaxCommits commits of before..after, newest
// first, and counts them all.
func (f *Forge) giteeCommits(owner, name, before, after string) ([]map[string]any, int) {
	commits := []map[string]any{}
	if after == zeroOID {
		return commits, 0
	}
	rng := []string{after}
	if before != zeroOID {
		rng = []string{before + ".." + after}
	}
	dir := f.RepoPath(owner, name)
	count, err := runGit(f.home, dir, append([]string{"rev-list", "--count"}, rng...)...)
	if err != nil {
		return commits, 0
	}
	total, _ := strconv.Atoi(strings.TrimSpace(count))
	args := append([]string{"log", "-n", strconv.Itoa(giteeMaxCommits),
		"--format=%H%x1f%an%x1f%ae%x1f%cn%x1f%ce%x1f%cI%x1f%B%x1e"}, rng...)
	out, err := runGit(f.home, dir, args...)
	if err != nil {
		return commits, total
	}
	for _, rec := range strings.Split(out, "\x1e") {
		fields := strings.Split(strings.TrimLeft(rec, "\n"), "\x1f")
		if len(fields) != 7 {
			continue
		}
		commits = append(commits, map[string]any{
			"id": fields[0], "message": fields[6], "timestamp": fields[5],
			"url":       f.BaseURL() + "/" + owner + "/" + name + "/commit/" + fields[0],
			"author":    map[string]string{"name": fields[1], "email": fields[2]},
			"committer": map[string]string{"name": fields[3], "email": fields[4]},
			"distinct":  true, "added": []string{}, "removed": []string{}, "modified": []string{},
		})
	}
	return commits, total
}
