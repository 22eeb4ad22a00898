package gitee

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
)

// maxBody caps how much of a response is read: the largest answer the
// client asks for (a page of 100 repositories) is well under 1 MiB.
const maxBody = 16 << 20

// readBody reads at most maxBody bytes of an answer; over reports that the
// answer was longer (then body holds its first maxBody bytes).
func readBody(r io.Reader) (body []byte, over bool, err error) {
	body, err = io.ReadAll(io.LimitReader(r, maxBody+1))
	if len(body) > maxBody {
		return body[:maxBody], true, err
	}
	return body, false, err
}

// tooLarge is the error for an answer beyond maxBody.
func tooLarge(k *call, status int) error {
	return failure.New(failure.Rejected,
		"%s: Gitee answered HTTP %d with more than %d MiB, more than any answer to this request can be; not read further: is the API base URL right?",
		k.desc(), status, maxBody>>20)
}

// call is one API request. Neither query nor form ever holds the token: it is
// added when the request is built.
type call struct {
	method    string
	path      string     // API-relative and escaped, e.g. /repos/a/b
	query     url.Values // GET/DELETE parameters
	form      url.Values // POST/PATCH/PUT body fields
	subject   string     // what the request is about, for messages
	scope     []string   // token scopes the request needs
	retryPost bool       // this POST is safe to repeat
}

// desc names the request in messages: method and path, never the query.
func (k *call) desc() string { return k.method + " " + k.path }

func scopes(s ...string) []string { return s }

// scopeText is "the `projects` scope" or "the `projects` and `groups` scopes".
func (k *call) scopeText() string {
	q := make([]string, len(k.scope))
	for i, s := range k.scope {
		q[i] = "`" + s + "`"
	}
	switch len(q) {
	case 0:
		return "the right scopes"
	case 1:
		return "the " + q[0] + " scope"
	}
	return "the " + strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1] + " scopes"
}

func (k *call) hasBody() bool {
	return k.method == http.MethodPost || k.method == http.MethodPatch || k.method == http.MethodPut
}

func (k *call) idempotent() bool { return k.method != http.MethodPost || k.retryPost }

// do runs k, retrying transient failures when k may be repeated, and decodes
// a JSON answer into out (when out is not nil). It returns the last
// response's header.
func (c *Client) do(ctx context.Context, k *call, out any) (http.Header, error) {
	for attempt := 1; ; attempt++ {
		h, wait, err := c.once(ctx, k, out)
		if err == nil {
			return h, nil
		}
		if !k.idempotent() || !retryable(ctx, err) || attempt >= c.retry.MaxAttempts {
			return nil, err
		}
		if err := c.pause(ctx, k, attempt, wait, err); err != nil {
			return nil, err
		}
	}
}

// retryable reports whether err may go away on a new attempt.
func retryable(ctx context.Context, err error) bool {
	return ctx.Err() == nil && failure.IsTransient(err)
}

// pause waits before attempt+1. It returns last when waiting is pointless (a
// Retry-After beyond MaxDelay, or past the context's deadline), and a
// context error when ctx ends during the wait.
func (c *Client) pause(ctx context.Context, k *call, attempt int, retryAfter time.Duration, last error) error {
	d := c.backoff(attempt)
	if retryAfter > c.retry.MaxDelay {
		return last
	}
	d = max(d, retryAfter)
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return last
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctxError(k, ctx.Err())
	case <-t.C:
		return nil
	}
}

// backoff is the wait before attempt+1: BaseDelay doubled per attempt, capped
// at MaxDelay, with jitter in its upper half.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.retry.BaseDelay
	for i := 1; i < attempt && d < c.retry.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, c.retry.MaxDelay)
	half := int64(d / 2)
	if half <= 0 {
		return d
	}
	return time.Duration(half + rand.Int64N(half+1))
}

// once makes one attempt. It returns the response header, the wait a
// Retry-After header asked for, and a classified error.
func (c *Client) once(ctx context.Context, k *call, out any) (http.Header, time.Duration, error) {
	req, err := c.newRequest(ctx, k)
	if err != nil {
		return nil, 0, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, 0, c.transportError(ctx, k, err)
	}
	defer resp.Body.Close()
	body, over, err := readBody(resp.Body)
	if err != nil {
		return nil, 0, c.transportError(ctx, k, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, retryAfter(resp.Header, time.Now()), c.statusError(k, resp, body)
	}
	if over {
		return nil, 0, tooLarge(k, resp.StatusCode)
	}
	if out != nil && len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, out); err != nil {
			return nil, 0, failure.New(failure.Internal, "%s: Gitee answered HTTP %d with something other than the expected JSON; is the API base URL right?", k.desc(), resp.StatusCode)
		}
	}
	return resp.Header, 0, nil
}

// newRequest builds the HTTP request, placing the token in the query (GET,
// DELETE) or in the form body (POST, PATCH, PUT).
func (c *Client) newRequest(ctx context.Context, k *call) (*http.Request, error) {
	q := cloneValues(k.query)
	var body io.Reader
	if k.hasBody() {
		f := cloneValues(k.form)
		f.Set("access_token", c.token)
		body = strings.NewReader(f.Encode())
	} else {
		q.Set("access_token", c.token)
	}
	u := c.base.String() + k.path + "?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, k.method, u, body)
	if err != nil {
		return nil, failure.New(failure.Invalid, "%s: cannot build the request: check the owner and repository names", k.desc())
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
	return req, nil
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v)+1)
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// retryAfter reads a Retry-After header (seconds or an HTTP date).
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
