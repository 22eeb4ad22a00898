package gitee

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
)

// CreateRepo creates an empty repository (auto_init false, no README):
// POST /user/repos under the token's own account, POST /orgs/{org}/repos or
// POST /enterprises/{enterprise}/repos. An empty Visibility means private.
// OwnerKind "" means the token's own account when Owner is empty or its
// login, else whatever GET /orgs or GET /users finds.
//
// A POST that fails transiently is repeated only after GET
// /repos/{owner}/{name} shows that it did not create the repository after
// all; when it did, that repository is returned.
func (c *Client) CreateRepo(ctx context.Context, opts forge.CreateOptions) (*forge.Repo, error) {
	if _, err := segment("repository name", opts.Name); err != nil {
		return nil, err
	}
	vis := opts.Visibility
	if vis == "" {
		vis = forge.Private
	}
	code, ok := map[forge.Visibility]string{forge.Private: "0", forge.Public: "1", forge.Internal: "2"}[vis]
	if !ok {
		return nil, failure.New(failure.Invalid, "unknown repository visibility %q: use private, public or internal", vis)
	}
	kind, owner, err := c.createTarget(ctx, opts)
	if err != nil {
		return nil, err
	}
	form := url.Values{}
	form.Set("name", opts.Name)
	form.Set("path", opts.Name)
	form.Set("auto_init", "false")
	setIf(form, "description", opts.Description)
	setIf(form, "homepage", opts.Homepage)
	k := &call{method: http.MethodPost, form: form, subject: repoSubject(owner, opts.Name), scope: scopes("projects")}
	esc, _ := segment("owner", owner) // checked by createTarget
	switch kind {
	case forge.User:
		if vis == forge.Internal {
			return nil, failure.New(failure.Invalid, "Gitee has no internal repositories in personal accounts: create %s as private or public", opts.Name)
		}
		k.path = "/user/repos"
		form.Set("private", strconv.FormatBool(vis != forge.Public))
	case forge.Org:
		k.path = "/orgs/" + esc + "/repos"
		form.Set("public", code) // overrides "private" on Gitee
		k.scope = scopes("projects", "groups")
	case forge.Enterprise:
		k.path = "/enterprises/" + esc + "/repos"
		form.Set("private", code) // 0 private, 1 public, 2 internal here
		k.scope = scopes("projects", "enterprises")
	}
	return c.createWithCheck(ctx, k, owner, opts.Name)
}

// createTarget resolves where the repository goes: its kind and owner path.
func (c *Client) createTarget(ctx context.Context, opts forge.CreateOptions) (forge.AccountKind, string, error) {
	kind, owner := opts.OwnerKind, opts.Owner
	if kind == "" || kind == forge.User {
		login, err := c.Login(ctx)
		if err != nil {
			return "", "", err
		}
		switch {
		case owner == "" || strings.EqualFold(owner, login):
			return forge.User, login, nil
		case kind == forge.User:
			return "", "", failure.New(failure.Invalid, "Gitee creates personal repositories only in the token's own account (%s), not in %s: use a token of %s", login, owner, owner)
		}
		if kind, err = c.detectKind(ctx, owner); err != nil {
			return "", "", err
		}
		if kind == forge.User {
			return "", "", failure.New(failure.Invalid, "%s is another Gitee user: a token of %s can only create repositories in its own account (%s) or in organisations", owner, login, login)
		}
	}
	if _, err := segment("owner", owner); err != nil {
		return "", "", err
	}
	if kind != forge.Org && kind != forge.Enterprise {
		return "", "", failure.New(failure.Invalid, "unknown Gitee account kind %q: use user, org or enterprise", kind)
	}
	return kind, owner, nil
}

// createWithCheck posts k; after a transient failure it looks whether the
// repository exists before trying again.
func (c *Client) createWithCheck(ctx context.Context, k *call, owner, name string) (*forge.Repo, error) {
	uncertain := false // an earlier attempt may have landed
	for attempt := 1; ; attempt++ {
		var raw apiRepo
		_, wait, err := c.once(ctx, k, &raw)
		if err == nil {
			r := c.toRepo(&raw, owner, name)
			c.rememberCreated(r, raw.Name)
			return r, nil
		}
		if uncertain && failure.ClassOf(err) == failure.Invalid {
			// Probably "already exists": our earlier attempt created it.
			if r, gerr := c.GetRepo(ctx, owner, name); gerr == nil {
				return r, nil
			}
			return nil, err
		}
		if !retryable(ctx, err) || attempt >= c.retry.MaxAttempts {
			return nil, err
		}
		r, gerr := c.GetRepo(ctx, owner, name)
		if gerr == nil {
			return r, nil
		}
		if failure.ClassOf(gerr) != failure.NotFound {
			return nil, err
		}
		uncertain = true
		if perr := c.pause(ctx, k, attempt, wait, err); perr != nil {
			return nil, perr
		}
	}
}

// rememberCreated keeps the display name Gitee gave a repository CreateRepo
// made, so that the UpdateRepo that usually follows (the default branch,
// once it has been pushed) need not read the repository for it.
func (c *Client) rememberCreated(r *forge.Repo, display string) {
	if display == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.created == nil {
		c.created = map[string]string{}
	}
	c.created[createdKey(r.Owner, r.Name)] = display
}

// takeCreated returns, and forgets, the display name of owner/name if this
// client created it and has not updated it since.
func (c *Client) takeCreated(owner, name string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := createdKey(owner, name)
	display, ok := c.created[k]
	delete(c.created, k)
	return display, ok
}

func createdKey(owner, name string) string { return strings.ToLower(owner + "/" + name) }
