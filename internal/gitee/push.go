package gitee

import (
	"encoding/json"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
)

// PushEvent is what the sync needs from a Gitee push or tag push delivery.
// The password, sign and timestamp fields Gitee repeats in the body are not
// kept.
type PushEvent struct {
	Ref          string // e.g. refs/heads/main, refs/tags/v1
	Before       string
	After        string
	Created      bool
	Deleted      bool
	TotalCommits int
	HookID       int64
	HookName     string // e.g. push_hooks, tag_push_hooks
	Repository   PushRepository
	Sender       string // login of whoever pushed, when given
}

// PushRepository is the repository a push delivery is about.
type PushRepository struct {
	FullName          string
	PathWithNamespace string
	Name              string
	Path              string
	CloneURL          string
	DefaultBranch     string
	Private           bool
}

// FullName is "owner/path" of the pushed repository: path_with_namespace,
// else full_name.
func (e *PushEvent) FullName() string {
	if e.Repository.PathWithNamespace != "" {
		return e.Repository.PathWithNamespace
	}
	return e.Repository.FullName
}

// ParsePushHook decodes a Push Hook or Tag Push Hook body. Verify the
// delivery (VerifyWebhook) before parsing it. Created and Deleted are also
// inferred from an all-zero before or after.
func ParsePushHook(body []byte) (*PushEvent, error) {
	var p struct {
		Ref               string   `json:"ref"`
		Before            string   `json:"before"`
		After             string   `json:"after"`
		Created           flexBool `json:"created"`
		Deleted           flexBool `json:"deleted"`
		TotalCommitsCount flexInt  `json:"total_commits_count"`
		HookID            flexInt  `json:"hook_id"`
		HookName          string   `json:"hook_name"`
		Repository        *struct {
			FullName          string   `json:"full_name"`
			PathWithNamespace string   `json:"path_with_namespace"`
			Name              string   `json:"name"`
			Path              string   `json:"path"`
			CloneURL          string   `json:"clone_url"`
			GitHTTPURL        string   `json:"git_http_url"`
			DefaultBranch     string   `json:"default_branch"`
			Private           flexBool `json:"private"`
		} `json:"repository"`
		Sender *struct {
			Login    string `json:"login"`
			Username string `json:"username"`
		} `json:"sender"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, failure.New(failure.Invalid, "the Gitee push delivery is not valid JSON")
	}
	if p.Ref == "" {
		return nil, failure.New(failure.Invalid, "the Gitee push delivery names no ref")
	}
	if p.Repository == nil || (p.Repository.FullName == "" && p.Repository.PathWithNamespace == "") {
		return nil, failure.New(failure.Invalid, "the Gitee push delivery names no repository")
	}
	r := p.Repository
	e := &PushEvent{
		Ref:          p.Ref,
		Before:       p.Before,
		After:        p.After,
		Created:      p.Created.v || isZeroSHA(p.Before),
		Deleted:      p.Deleted.v || isZeroSHA(p.After),
		TotalCommits: int(p.TotalCommitsCount),
		HookID:       int64(p.HookID),
		HookName:     p.HookName,
		Repository: PushRepository{
			FullName:          r.FullName,
			PathWithNamespace: r.PathWithNamespace,
			Name:              r.Name,
			Path:              r.Path,
			CloneURL:          firstNonEmpty(r.CloneURL, r.GitHTTPURL),
			DefaultBranch:     r.DefaultBranch,
			Private:           r.Private.v,
		},
	}
	if p.Sender != nil {
		e.Sender = firstNonEmpty(p.Sender.Login, p.Sender.Username)
	}
	return e, nil
}

func isZeroSHA(s string) bool {
	return len(s) >= 40 && strings.Trim(s, "0") == ""
}
