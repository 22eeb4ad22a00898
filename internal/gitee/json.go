package gitee

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/forge"
)

// flexBool decodes true/false, "true"/"false", 1/0, "1"/"0" and null: Gitee's
// documented schemas type several booleans as strings.
type flexBool struct {
	v, set bool
}

// UnmarshalJSON implements json.Unmarshaler.
func (b *flexBool) UnmarshalJSON(data []byte) error {
	s := strings.ToLower(strings.Trim(string(bytes.TrimSpace(data)), `"`))
	switch s {
	case "true", "1":
		*b = flexBool{v: true, set: true}
	case "false", "0":
		*b = flexBool{set: true}
	default:
		*b = flexBool{}
	}
	return nil
}

// flexInt decodes a number or a numeric string; anything else is 0.
type flexInt int64

// UnmarshalJSON implements json.Unmarshaler.
func (n *flexInt) UnmarshalJSON(data []byte) error {
	s := strings.Trim(string(bytes.TrimSpace(data)), `"`)
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		v = 0
	}
	*n = flexInt(v)
	return nil
}

// apiRepo is the part of Gitee's repository ("Project") object we read.
type apiRepo struct {
	FullName  string `json:"full_name"`
	Path      string `json:"path"`
	Name      string `json:"name"`
	Namespace *struct {
		Path string `json:"path"`
	} `json:"namespace"`
	Owner *struct {
		Login string `json:"login"`
	} `json:"owner"`
	Description   *string  `json:"description"`
	Homepage      *string  `json:"homepage"`
	DefaultBranch string   `json:"default_branch"`
	Private       flexBool `json:"private"`
	Public        flexBool `json:"public"`
	Internal      flexBool `json:"internal"`
	Fork          flexBool `json:"fork"`
	Archived      flexBool `json:"archived"`
	Status        string   `json:"status"`
}

// closedStatuses are values of a repository's "status" that mean it is
// closed (read-only). Gitee's normal status is "开始"; the closed values are
// not documented, so several spellings are accepted.
var closedStatuses = map[string]bool{
	"关闭":       true,
	"已关闭":      true,
	"closed":   true,
	"archived": true,
	"已归档":      true,
	"归档":       true,
}

// owner is the namespace path, else the part of full_name before the slash,
// else the owner's login.
func (a *apiRepo) owner() string {
	if a.Namespace != nil && a.Namespace.Path != "" {
		return a.Namespace.Path
	}
	if i := strings.LastIndex(a.FullName, "/"); i > 0 {
		return a.FullName[:i]
	}
	if a.Owner != nil {
		return a.Owner.Login
	}
	return ""
}

// name is the URL path segment: path, else the part of full_name after the
// slash, else the display name.
func (a *apiRepo) name() string {
	if a.Path != "" {
		return a.Path
	}
	if i := strings.LastIndex(a.FullName, "/"); i >= 0 && i < len(a.FullName)-1 {
		return a.FullName[i+1:]
	}
	return a.Name
}

// toRepo maps a Gitee repository; owner and name fill in what Gitee left out.
func (c *Client) toRepo(a *apiRepo, owner, name string) *forge.Repo {
	r := &forge.Repo{
		Owner:         a.owner(),
		Name:          a.name(),
		DefaultBranch: a.DefaultBranch,
		Fork:          a.Fork.v,
		Archived:      a.Archived.v || closedStatuses[strings.ToLower(strings.TrimSpace(a.Status))],
	}
	if r.Owner == "" {
		r.Owner = owner
	}
	if r.Name == "" {
		r.Name = name
	}
	if a.Description != nil {
		r.Description = *a.Description
	}
	if a.Homepage != nil {
		r.Homepage = *a.Homepage
	}
	// Gitee has three visibilities: an internal repository (visible to an
	// enterprise's members) reports private=false and public=false. Anything
	// not plainly public counts as private, so that "same as the source"
	// never publishes it.
	switch {
	case a.Internal.v, a.Private.v:
		r.Private = true
	case a.Public.set:
		r.Private = !a.Public.v
	case a.Private.set:
		r.Private = false
	}
	r.CloneURL = c.GitURL(r.Owner, r.Name)
	return r
}
