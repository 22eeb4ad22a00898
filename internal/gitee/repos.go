package gitee

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
)

// GetRepo returns one repository (GET /repos/{owner}/{repo}); failure.NotFound
// when absent.
func (c *Client) GetRepo(ctx context.Context, owner, name string) (*forge.Repo, error) {
	raw, err := c.getRaw(ctx, owner, name)
	if err != nil {
		return nil, err
	}
	return c.toRepo(raw, owner, name), nil
}

func (c *Client) getRaw(ctx context.Context, owner, name string) (*apiRepo, error) {
	p, err := repoPath(owner, name)
	if err != nil {
		return nil, err
	}
	var raw apiRepo
	k := &call{method: http.MethodGet, path: p, subject: repoSubject(owner, name), scope: scopes("projects")}
	if _, err := c.do(ctx, k, &raw); err != nil {
		return nil, err
	}
	return &raw, nil
}

func repoSubject(owner, name string) string { return fmt.Sprintf("repository %s/%s", owner, name) }

// ListRepos lists every repository of an account, following pagination:
// GET /user/repos?affiliation=owner for the token's own account (private
// repositories included), /users/{owner}/repos for another user,
// /orgs/{owner}/repos and /enterprises/{owner}/repos. User listings keep only
// repositories in the user's own namespace. kind "" asks Gitee whether owner
// is an organisation, else a user.
func (c *Client) ListRepos(ctx context.Context, owner string, kind forge.AccountKind) ([]*forge.Repo, error) {
	esc, err := segment("account name", owner)
	if err != nil {
		return nil, err
	}
	if kind == "" {
		if kind, err = c.detectKind(ctx, owner); err != nil {
			return nil, err
		}
	}
	k := call{query: url.Values{}, scope: scopes("projects")}
	switch kind {
	case forge.User:
		login, err := c.Login(ctx)
		if err != nil {
			return nil, err
		}
		k.subject = "user " + owner
		if strings.EqualFold(login, owner) {
			k.path = "/user/repos"
			k.query.Set("affiliation", "owner")
		} else {
			k.path = "/users/" + esc + "/repos"
			k.query.Set("type", "owner")
		}
	case forge.Org:
		k.path, k.subject = "/orgs/"+esc+"/repos", "organisation "+owner
		k.query.Set("type", "all")
		k.scope = []string{"projects", "groups"}
	case forge.Enterprise:
		k.path, k.subject = "/enterprises/"+esc+"/repos", "enterprise "+owner
		k.query.Set("type", "all")
		k.scope = []string{"projects", "enterprises"}
	default:
		return nil, failure.New(failure.Invalid, "unknown Gitee account kind %q: use user, org or enterprise", kind)
	}
	raws, err := listAll[apiRepo](ctx, c, k)
	if err != nil {
		return nil, err
	}
	out := make([]*forge.Repo, 0, len(raws))
	for i := range raws {
		r := c.toRepo(&raws[i], owner, "")
		if kind == forge.User && !strings.EqualFold(r.Owner, owner) {
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// detectKind asks GET /orgs/{owner}, then GET /users/{owner}.
func (c *Client) detectKind(ctx context.Context, owner string) (forge.AccountKind, error) {
	esc, err := segment("account name", owner)
	if err != nil {
		return "", err
	}
	org := &call{method: http.MethodGet, path: "/orgs/" + esc, subject: "organisation " + owner, scope: scopes("groups")}
	_, err = c.do(ctx, org, nil)
	if err == nil {
		return forge.Org, nil
	}
	if failure.ClassOf(err) != failure.NotFound {
		return "", err
	}
	user := &call{method: http.MethodGet, path: "/users/" + esc, subject: "user " + owner, scope: scopes("user_info")}
	_, err = c.do(ctx, user, nil)
	if err == nil {
		return forge.User, nil
	}
	if failure.ClassOf(err) == failure.NotFound {
		return "", failure.New(failure.NotFound, "no Gitee user or organisation is named %q: check the spelling, or whether it was renamed; for an enterprise, give the account kind \"enterprise\"", owner)
	}
	return "", err
}

// UpdateRepo changes settings with PATCH /repos/{owner}/{repo}. Gitee's
// PATCH may require "name" (the display name) even when unchanged, so the
// repository is read first and its current name sent along; the first
// update of a repository this client created uses the name Gitee gave it
// then instead, without reading it. Nothing is sent when u is empty.
func (c *Client) UpdateRepo(ctx context.Context, owner, name string, u forge.RepoUpdate) error {
	if u == (forge.RepoUpdate{}) {
		return nil
	}
	p, err := repoPath(owner, name)
	if err != nil {
		return err
	}
	display, ok := c.takeCreated(owner, name)
	if !ok {
		raw, err := c.getRaw(ctx, owner, name)
		if err != nil {
			return err
		}
		display = firstNonEmpty(raw.Name, raw.name(), name)
	}
	form := url.Values{}
	form.Set("name", display)
	setIf(form, "default_branch", u.DefaultBranch)
	setIf(form, "description", u.Description)
	setIf(form, "homepage", u.Homepage)
	k := &call{method: http.MethodPatch, path: p, form: form, subject: repoSubject(owner, name), scope: scopes("projects")}
	_, err = c.do(ctx, k, nil)
	return err
}

func setIf(v url.Values, key, val string) {
	if val != "" {
		v.Set(key, val)
	}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
