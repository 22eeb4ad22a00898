package settings

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v62/github"
)

// errSignedOut: GitHub no longer accepts the user's token.
var errSignedOut = errors.New("your GitHub sign-in expired: sign in again")

// installation is one the signed-in user can see.
type installation struct {
	ID      int64
	Account string
	Type    string // "User" or "Organization"
}

// repo is a repository the signed-in user can see in an installation.
type repo struct {
	ID      int64
	Owner   string
	Name    string
	Private bool
}

func (r repo) FullName() string { return r.Owner + "/" + r.Name }

// userClient asks GitHub on the signed-in user's behalf.
func (h *Handler) userClient(token string) *github.Client {
	c := github.NewClient(h.opts.HTTPClient).WithAuthToken(token)
	if u, err := url.Parse(h.opts.Config.GitHubAPIURL); err == nil {
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		c.BaseURL = u
	}
	return c
}

// githubErr turns a GitHub error into one for people.
func githubErr(what string, err error) error {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusUnauthorized {
		return errSignedOut
	}
	return fmt.Errorf("error %s: %w", what, err)
}

// installations lists the installations of this App the user can see
// (GET /user/installations).
func (h *Handler) installations(ctx context.Context, s *session) ([]installation, error) {
	c := h.userClient(s.Token)
	var out []installation
	opts := &github.ListOptions{PerPage: 100}
	for {
		list, resp, err := c.Apps.ListUserInstallations(ctx, opts)
		if err != nil {
			return nil, githubErr("listing your installations on GitHub", err)
		}
		for _, in := range list {
			out = append(out, installation{ID: in.GetID(), Account: in.GetAccount().GetLogin(), Type: in.GetTargetType()})
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// installation returns installation id if the user can see it: an id from
// a URL is never taken on trust.
func (h *Handler) installation(ctx context.Context, s *session, id int64) (*installation, error) {
	list, err := h.installations(ctx, s)
	if err != nil {
		return nil, err
	}
	for _, in := range list {
		if in.ID == id {
			return &in, nil
		}
	}
	return nil, errNotVisible
}

// errNotVisible: the user cannot see that installation or repository
// (or it does not exist: the two are not told apart).
var errNotVisible = errors.New("not found, or you cannot see it with your GitHub account")

// repos lists the installation's repositories the user can see
// (GET /user/installations/{id}/repositories).
func (h *Handler) repos(ctx context.Context, s *session, installationID int64) ([]repo, error) {
	c := h.userClient(s.Token)
	var out []repo
	opts := &github.ListOptions{PerPage: 100}
	for {
		list, resp, err := c.Apps.ListUserRepos(ctx, installationID, opts)
		if err != nil {
			var er *github.ErrorResponse
			if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound {
				return nil, errNotVisible
			}
			return nil, githubErr("listing the installation's repositories on GitHub", err)
		}
		for _, r := range list.Repositories {
			out = append(out, repo{ID: r.GetID(), Owner: r.GetOwner().GetLogin(), Name: r.GetName(), Private: r.GetPrivate()})
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// repo returns repository id of the installation if the user can see it.
func (h *Handler) repo(ctx context.Context, s *session, installationID, id int64) (*repo, error) {
	list, err := h.repos(ctx, s, installationID)
	if err != nil {
		return nil, err
	}
	for _, r := range list {
		if r.ID == id {
			return &r, nil
		}
	}
	return nil, errNotVisible
}

// permCache remembers permission levels briefly: GitHub is asked again
// after ttl, so a removed admin loses access within a minute.
type permCache struct {
	mu  sync.Mutex
	ttl time.Duration
	m   map[string]permEntry
}

type permEntry struct {
	level string
	at    time.Time
}

// permission is the user's permission level on r ("admin", "write",
// "read", "none"), asked of GitHub
// (GET /repos/{owner}/{repo}/collaborators/{user}/permission).
func (h *Handler) permission(ctx context.Context, s *session, r *repo) (string, error) {
	key := strings.ToLower(s.Login) + "\x00" + fmt.Sprint(r.ID)
	now := h.opts.Now()
	pc := &h.perms
	pc.mu.Lock()
	e, ok := pc.m[key]
	pc.mu.Unlock()
	if ok && now.Sub(e.at) < pc.ttl && now.Sub(e.at) >= 0 {
		return e.level, nil
	}
	lvl, _, err := h.userClient(s.Token).Repositories.GetPermissionLevel(ctx, r.Owner, r.Name, s.Login)
	if err != nil {
		return "", githubErr("asking GitHub for your permission on "+r.FullName(), err)
	}
	level := lvl.GetPermission()
	pc.mu.Lock()
	if pc.m == nil || len(pc.m) > 10000 {
		pc.m = map[string]permEntry{}
	}
	pc.m[key] = permEntry{level: level, at: now}
	pc.mu.Unlock()
	return level, nil
}

// exchangeCode trades an OAuth code for the user's token, with the PKCE
// verifier.
func (h *Handler) exchangeCode(ctx context.Context, creds AppCredentials, code, verifier, redirect string) (string, error) {
	form := url.Values{
		"client_id": {creds.ClientID}, "client_secret": {creds.ClientSecret},
		"code": {code}, "code_verifier": {verifier}, "redirect_uri": {redirect},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.opts.Config.GitHubURL+"/login/oauth/access_token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := h.opts.HTTPClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("error reaching GitHub to finish signing in: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GitHub answered %s when finishing the sign-in", resp.Status)
	}
	if out.AccessToken == "" {
		return "", fmt.Errorf("GitHub refused the sign-in: %s (%s)", out.Description, out.Error)
	}
	return out.AccessToken, nil
}
