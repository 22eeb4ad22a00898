package gitee

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
)

// EncryptionType is how a Gitee webhook proves itself: Gitee's
// encryption_type.
type EncryptionType int

// Encryption types.
const (
	// PasswordMode sends the secret itself as X-Gitee-Token.
	PasswordMode EncryptionType = 0
	// SignatureMode sends an HMAC-SHA256 signature over a timestamp and the
	// secret as X-Gitee-Token, with X-Gitee-Timestamp.
	SignatureMode EncryptionType = 1
)

// Hook is a repository webhook as Gitee describes it.
type Hook struct {
	ID             int64
	URL            string
	EncryptionType EncryptionType
	// Password is the secret as Gitee returns it (possibly empty or masked).
	// Never log it.
	Password      string
	PushEvents    bool
	TagPushEvents bool
}

// HookOptions describe a webhook to create or update. Only push and tag push
// events are turned on; issue, comment and merge request events are off.
type HookOptions struct {
	URL            string
	EncryptionType EncryptionType
	// Password is the secret in both modes; required.
	Password      string
	PushEvents    bool
	TagPushEvents bool
}

type apiHook struct {
	ID             int64    `json:"id"`
	URL            string   `json:"url"`
	EncryptionType flexInt  `json:"encryption_type"`
	Password       string   `json:"password"`
	PushEvents     flexBool `json:"push_events"`
	TagPushEvents  flexBool `json:"tag_push_events"`
}

func (a *apiHook) hook() *Hook {
	return &Hook{
		ID:             a.ID,
		URL:            a.URL,
		EncryptionType: EncryptionType(a.EncryptionType),
		Password:       a.Password,
		PushEvents:     a.PushEvents.v,
		TagPushEvents:  a.TagPushEvents.v,
	}
}

// hookCall prepares a call on /repos/{owner}/{repo}/hooks.
func hookCall(method, owner, repo string) (*call, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, err
	}
	return &call{method: method, path: p + "/hooks", subject: repoSubject(owner, repo), scope: scopes("hook")}, nil
}

// hookItem prepares a call on /repos/{owner}/{repo}/hooks/{id} plus tail.
func hookItem(method, owner, repo string, id int64, tail string) (*call, error) {
	if id <= 0 {
		return nil, failure.New(failure.Invalid, "%d is not a Gitee webhook id", id)
	}
	k, err := hookCall(method, owner, repo)
	if err != nil {
		return nil, err
	}
	k.path += "/" + strconv.FormatInt(id, 10) + tail
	k.subject = fmt.Sprintf("webhook %d of %s", id, k.subject)
	return k, nil
}

func (o HookOptions) form() (url.Values, error) {
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, failure.New(failure.Invalid, "the webhook URL must be an http(s) URL")
	}
	if o.Password == "" {
		return nil, failure.New(failure.Invalid, "a webhook needs a secret (password) so that deliveries can be verified")
	}
	if o.EncryptionType != PasswordMode && o.EncryptionType != SignatureMode {
		return nil, failure.New(failure.Invalid, "unknown webhook encryption type %d: use 0 (password) or 1 (signature)", o.EncryptionType)
	}
	f := url.Values{}
	f.Set("url", o.URL)
	f.Set("encryption_type", strconv.Itoa(int(o.EncryptionType)))
	f.Set("password", o.Password)
	f.Set("push_events", strconv.FormatBool(o.PushEvents))
	f.Set("tag_push_events", strconv.FormatBool(o.TagPushEvents))
	for _, off := range []string{"issues_events", "note_events", "merge_requests_events"} {
		f.Set(off, "false")
	}
	return f, nil
}

// ListHooks lists a repository's webhooks (GET /repos/{owner}/{repo}/hooks).
func (c *Client) ListHooks(ctx context.Context, owner, repo string) ([]*Hook, error) {
	k, err := hookCall(http.MethodGet, owner, repo)
	if err != nil {
		return nil, err
	}
	k.query = url.Values{}
	raws, err := listAll[apiHook](ctx, c, *k)
	if err != nil {
		return nil, err
	}
	out := make([]*Hook, len(raws))
	for i := range raws {
		out[i] = raws[i].hook()
	}
	return out, nil
}

// CreateHook adds a webhook (POST /repos/{owner}/{repo}/hooks). It is never
// retried, so that a lost answer cannot leave two hooks behind; list the
// hooks before trying again.
func (c *Client) CreateHook(ctx context.Context, owner, repo string, o HookOptions) (*Hook, error) {
	k, err := hookCall(http.MethodPost, owner, repo)
	if err != nil {
		return nil, err
	}
	if k.form, err = o.form(); err != nil {
		return nil, err
	}
	var raw apiHook
	if _, err := c.do(ctx, k, &raw); err != nil {
		return nil, err
	}
	return raw.hook(), nil
}

// UpdateHook replaces a webhook's settings (PATCH
// /repos/{owner}/{repo}/hooks/{id}).
func (c *Client) UpdateHook(ctx context.Context, owner, repo string, id int64, o HookOptions) (*Hook, error) {
	k, err := hookItem(http.MethodPatch, owner, repo, id, "")
	if err != nil {
		return nil, err
	}
	if k.form, err = o.form(); err != nil {
		return nil, err
	}
	var raw apiHook
	if _, err := c.do(ctx, k, &raw); err != nil {
		return nil, err
	}
	if raw.ID == 0 {
		raw.ID = id
	}
	return raw.hook(), nil
}

// PutHook makes the repository have webhook o and returns it: it updates
// hook id when id is not 0 and the hook still exists, else the hook that
// already points at o.URL (one whose creation answer was lost, or whose id
// was not kept), else it creates one. So a retry never leaves two hooks.
func (c *Client) PutHook(ctx context.Context, owner, repo string, id int64, o HookOptions) (*Hook, error) {
	if id != 0 {
		h, err := c.UpdateHook(ctx, owner, repo, id, o)
		if failure.ClassOf(err) != failure.NotFound {
			return h, err
		}
	}
	hooks, err := c.ListHooks(ctx, owner, repo)
	if err != nil {
		return nil, err
	}
	for _, h := range hooks {
		if h.URL == o.URL {
			return c.UpdateHook(ctx, owner, repo, h.ID, o)
		}
	}
	return c.CreateHook(ctx, owner, repo, o)
}

// DeleteHook removes a webhook (DELETE /repos/{owner}/{repo}/hooks/{id}).
func (c *Client) DeleteHook(ctx context.Context, owner, repo string, id int64) error {
	k, err := hookItem(http.MethodDelete, owner, repo, id, "")
	if err != nil {
		return err
	}
	_, err = c.do(ctx, k, nil)
	return err
}

// TestHook asks Gitee to send a test delivery (POST
// /repos/{owner}/{repo}/hooks/{id}/tests); it arrives with X-Gitee-Ping.
// A repeated test delivery is harmless, so this POST is retried.
func (c *Client) TestHook(ctx context.Context, owner, repo string, id int64) error {
	k, err := hookItem(http.MethodPost, owner, repo, id, "/tests")
	if err != nil {
		return err
	}
	k.retryPost = true
	_, err = c.do(ctx, k, nil)
	return err
}
