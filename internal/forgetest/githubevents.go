package forgetest

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// githubMaxCommits is how many commits a push payload lists at most.
const githubMaxCommits = 2048

// DeliveryOption changes a delivery made by [Forge.SendGitHubEvent].
type DeliveryOption func(*delivery)

type delivery struct {
	id     string
	hookID int64
	appID  int64
	header http.Header
}

// WithDeliveryID sets X-GitHub-Delivery, e.g. to redeliver with the same id
// as GitHub does.
func WithDeliveryID(id string) DeliveryOption { return func(d *delivery) { d.id = id } }

// WithHookID sets X-GitHub-Hook-ID (default 1).
func WithHookID(id int64) DeliveryOption { return func(d *delivery) { d.hookID = id } }

// WithAppID sets X-GitHub-Hook-Installation-Target-ID (default: the
// forge's App when it has exactly one).
func WithAppID(id int64) DeliveryOption { return func(d *delivery) { d.appID = id } }

// WithHeader sets a header after all others, e.g. a wrong signature.
func WithHeader(key, value string) DeliveryOption {
	return func(d *delivery) { d.header.Set(key, value) }
}

// newGUID makes a random (version 4) UUID, the form of X-GitHub-Delivery.
func newGUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// SignGitHub is GitHub's X-Hub-Signature-256 of body: "sha256=" and the hex
// HMAC-SHA256 of the raw body with the webhook secret as key.
func SignGitHub(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// SendGitHubEvent POSTs a webhook delivery to target (loopback addresses
// only) as GitHub sends one to an App: payload as JSON ([]byte,
// json.RawMessage and string are sent as they are), Content-Type
// application/json, User-Agent GitHub-Hookshot/…, X-GitHub-Event: event,
// X-GitHub-Delivery (a fresh GUID unless WithDeliveryID), X-GitHub-Hook-ID,
// X-GitHub-Hook-Installation-Target-Type/-ID, and, with a secret,
// X-Hub-Signature-256 (see [SignGitHub]) and the legacy SHA-1 X-Hub-Signature.
// Redirects are not followed. The response's body is read already: closing
// it is optional.
func (f *Forge) SendGitHubEvent(target, secret, event string, payload any, opts ...DeliveryOption) (*http.Response, error) {
	var body []byte
	switch p := payload.(type) {
	case []byte:
		body = p
	case json.RawMessage:
		body = p
	case string:
		body = []byte(p)
	default:
		var err error
		if body, err = json.Marshal(payload); err != nil {
			return nil, fmt.Errorf("forgetest: SendGitHubEvent: %w", err)
		}
	}
	if !loopback(target) {
		return nil, fmt.Errorf("forgetest delivers only to loopback addresses, not %s", target)
	}
	d := &delivery{id: newGUID(), hookID: 1, header: http.Header{}}
	f.api.mu.Lock()
	if len(f.api.apps.apps) == 1 {
		for id := range f.api.apps.apps {
			d.appID = id
		}
	}
	f.api.mu.Unlock()
	for _, o := range opts {
		o(d)
	}
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "GitHub-Hookshot/forgetest")
	h.Set("Accept", "*/*")
	h.Set("X-GitHub-Event", event)
	h.Set("X-GitHub-Delivery", d.id)
	h.Set("X-GitHub-Hook-ID", strconv.FormatInt(d.hookID, 10))
	h.Set("X-GitHub-Hook-Installation-Target-Type", "integration")
	h.Set("X-GitHub-Hook-Installation-Target-ID", strconv.FormatInt(d.appID, 10))
	if secret != "" {
		h.Set("X-Hub-Signature-256", SignGitHub(secret, body))
		m := hmac.New(sha1.New, []byte(secret))
		m.Write(body)
		h.Set("X-Hub-Signature", "sha1="+hex.EncodeToString(m.Sum(nil)))
	}
	for k, v := range d.header {
		h[k] = v
	}
	resp, err := deliveryClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, err
}

// pushRepoJSON is the repository object of push events: the REST shape with
// created_at and pushed_at as Unix times and an owner with name and email.
func (f *Forge) pushRepoJSON(v *repoView) map[string]any {
	m := f.eventRepoJSON(v)
	m["created_at"] = v.created.Unix()
	m["pushed_at"] = time.Now().Unix()
	m["master_branch"] = v.meta.DefaultBranch
	if owner, ok := m["owner"].(map[string]any); ok {
		owner["name"] = v.owner
		owner["email"] = nil
	}
	return m
}

// eventRepoJSON is the REST repository object as a map.
func (f *Forge) eventRepoJSON(v *repoView) map[string]any {
	b, _ := json.Marshal(f.githubRepoJSON(v, caller{}))
	var m map[string]any
	json.Unmarshal(b, &m)
	return m
}

// eventRepo returns owner/name's view, failing the test without it.
func (f *Forge) eventRepo(what, owner, name string) repoView {
	f.t.Helper()
	st := f.repo(owner, name)
	if st == nil {
		f.t.Fatalf("forgetest: %s: no repository %s/%s", what, owner, name)
	}
	return f.view(st)
}

// installationRef is the installation object of repository events.
func installationRef(id int64) map[string]any {
	return map[string]any{"id": id, "node_id": nodeID("MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u", id)}
}

// PushPayload builds the payload of a GitHub push event for ref of
// owner/repo moved from before to after (full object ids; "" or zeros for a
// created or deleted ref), read from the bare repository as it is now:
// ref, before, after, created, deleted, forced, base_ref, compare, commits
// (oldest first, at most 2048: those of before..after, or for a new ref
// those on no other ref; each with added, modified and removed files
// against its first parent, and distinct when no other ref had it),
// head_commit, repository (id, name, full_name, owner, default_branch,
// private…), pusher, sender, and installation {id} when installationID is
// not 0. Tests may change the returned map before sending it.
func (f *Forge) PushPayload(owner, repo, ref, before, after string, installationID int64) map[string]any {
	f.t.Helper()
	v := f.eventRepo("PushPayload", owner, repo)
	if before == "" {
		before = zeroOID
	}
	if after == "" {
		after = zeroOID
	}
	dir := f.RepoPath(owner, repo)
	created, deleted := before == zeroOID, after == zeroOID
	forced := false
	commits := []map[string]any{}
	var head any
	if !deleted {
		// Commits no other ref has: after, not what the other refs reach.
		var others strings.Builder
		for name, oid := range f.Refs(owner, repo) {
			if name != ref {
				fmt.Fprintf(&others, "^%s\n", oid)
			}
		}
		fresh := map[string]bool{}
		newRange := others.String() + after + "\n"
		if out, err := gitStdin(f.home, dir, newRange, nil, "rev-list", "--stdin"); err == nil {
			for _, id := range strings.Fields(out) {
				fresh[id] = true
			}
		}
		rng := newRange
		if !created {
			if _, err := runGit(f.home, dir, "cat-file", "-e", before+"^{commit}"); err == nil {
				rng = after + "\n^" + before + "\n"
				_, err := runGit(f.home, dir, "merge-base", "--is-ancestor", before, after)
				forced = err != nil
			} else {
				forced = true
			}
		}
		list := f.githubCommits(owner, repo, rng)
		if len(list) > githubMaxCommits {
			list = list[len(list)-githubMaxCommits:]
		}
		for _, c := range list {
			c["distinct"] = fresh[c["id"].(string)]
			commits = append(commits, c)
		}
		if hc := f.githubCommits(owner, repo, after+"^{commit}\n", "-1"); len(hc) == 1 {
			hc[0]["distinct"] = fresh[hc[0]["id"].(string)]
			head = hc[0]
		}
	}
	full := owner + "/" + repo
	abbrev := func(id string) string { return id[:min(12, len(id))] }
	compare := f.BaseURL() + "/" + full + "/compare/" + abbrev(before) + "..." + abbrev(after)
	if created && !deleted {
		compare = f.BaseURL() + "/" + full + "/commit/" + abbrev(after)
	}
	sender := githubAccountJSONFor(f, owner)
	out := map[string]any{
		"ref": ref, "before": before, "after": after,
		"created": created, "deleted": deleted, "forced": forced, "base_ref": nil,
		"compare": compare, "commits": commits, "head_commit": head,
		"repository": f.pushRepoJSON(&v),
		"pusher":     map[string]any{"name": owner, "email": owner + "@users.noreply.github.com"},
		"sender":     sender,
	}
	if installationID != 0 {
		out["installation"] = installationRef(installationID)
	}
	return out
}

// githubCommits reads the commits git log lists for revs (one a line, as
// git log --stdin reads them), oldest first, as push payloads show them
// (without distinct).
func (f *Forge) githubCommits(owner, repo, revs string, args ...string) []map[string]any {
	cmd := exec.Command("git", append([]string{"log", "-z", "--reverse",
		"--format=%x01%H%x1f%T%x1f%an%x1f%ae%x1f%cn%x1f%ce%x1f%cI%x1f%B%x1f",
		"--name-status", "--no-renames", "--root", "--diff-merges=first-parent", "--stdin"}, args...)...)
	cmd.Dir = f.RepoPath(owner, repo)
	cmd.Env = gitEnv(f.home)
	cmd.Stdin = strings.NewReader(revs)
	out, err := cmd.Output()
	if err != nil {
		return nil
	}
	var commits []map[string]any
	for _, rec := range strings.Split(string(out), "\x01") {
		fields := strings.SplitN(rec, "\x1f", 9)
		if len(fields) != 9 {
			continue
		}
		added, removed, modified := []string{}, []string{}, []string{}
		files := strings.Split(strings.Trim(fields[8], "\x00\n"), "\x00")
		for i := 0; i+1 < len(files); i += 2 {
			status, path := strings.TrimLeft(files[i], "\n"), files[i+1]
			switch status {
			case "A":
				added = append(added, path)
			case "D":
				removed = append(removed, path)
			default:
				modified = append(modified, path)
			}
		}
		commits = append(commits, map[string]any{
			"id": fields[0], "tree_id": fields[1],
			"message":   strings.TrimRight(fields[7], "\n"),
			"timestamp": fields[6],
			"url":       f.BaseURL() + "/" + owner + "/" + repo + "/commit/" + fields[0],
			"author":    map[string]any{"name": fields[2], "email": fields[3]},
			"committer": map[string]any{"name": fields[4], "email": fields[5]},
			"added":     added, "removed": removed, "modified": modified,
		})
	}
	return commits
}

// appInstallFor returns a copy of installation id, failing the test
// without it.
func (f *Forge) appInstallFor(what string, id int64) *appInstall {
	f.t.Helper()
	f.api.mu.Lock()
	defer f.api.mu.Unlock()
	inst := *f.appInstallation(what, id)
	return &inst
}

// miniRepo is the short repository object of installation events.
func (f *Forge) miniRepo(key string) map[string]any {
	owner, name, _ := strings.Cut(key, "/")
	out := map[string]any{"id": int64(0), "node_id": "", "name": name, "full_name": key, "private": false}
	if st := f.repo(owner, name); st != nil {
		v := f.view(st)
		out["id"], out["node_id"], out["private"] = v.id, nodeID("R_kgDO", v.id), v.meta.Private
	}
	return out
}

// InstallationPayload builds the payload of a GitHub installation event
// (action created, deleted, suspend, unsuspend or new_permissions_accepted)
// for installation installationID as the forge has it now (build a deleted
// event before RemoveInstallation): action, installation (the full object),
// repositories (those it covers), requester, sender (the account).
func (f *Forge) InstallationPayload(action string, installationID int64) map[string]any {
	f.t.Helper()
	inst := f.appInstallFor("InstallationPayload", installationID)
	repos := []map[string]any{}
	for _, key := range f.repoKeys() {
		owner, name, _ := strings.Cut(key, "/")
		if inst.covers(owner, name) {
			repos = append(repos, f.miniRepo(key))
		}
	}
	return map[string]any{
		"action": action, "installation": f.githubInstallJSON(inst), "repositories": repos,
		"requester": nil, "sender": githubAccountJSONFor(f, inst.account),
	}
}

// InstallationRepositoriesPayload builds the payload of a GitHub
// installation_repositories event (action added or removed): added and
// removed are "owner/name" lists. Call SetInstallationRepos as well to
// change what the installation covers.
func (f *Forge) InstallationRepositoriesPayload(action string, installationID int64, added, removed []string) map[string]any {
	f.t.Helper()
	inst := f.appInstallFor("InstallationRepositoriesPayload", installationID)
	list := func(keys []string) []map[string]any {
		out := []map[string]any{}
		for _, k := range keys {
			out = append(out, f.miniRepo(k))
		}
		return out
	}
	return map[string]any{
		"action": action, "installation": f.githubInstallJSON(inst),
		"repository_selection": inst.selection(),
		"repositories_added":   list(added), "repositories_removed": list(removed),
		"requester": nil, "sender": githubAccountJSONFor(f, inst.account),
	}
}

// RepositoryPayload builds the payload of a GitHub repository event
// (action renamed, transferred, deleted, archived, unarchived, edited…)
// for owner/repo: action, repository, sender, and installation {id} when
// installationID is not 0. Add "changes" for renamed or transferred, e.g.
// {"repository": {"name": {"from": "old"}}}.
func (f *Forge) RepositoryPayload(action, owner, repo string, installationID int64) map[string]any {
	f.t.Helper()
	v := f.eventRepo("RepositoryPayload", owner, repo)
	out := map[string]any{
		"action": action, "repository": f.eventRepoJSON(&v), "sender": githubAccountJSONFor(f, owner),
	}
	if installationID != 0 {
		out["installation"] = installationRef(installationID)
	}
	return out
}
