package lfs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
)

// open starts the download of p with a download action from c's server.
// The body is p's data, not yet verified.
func (c *Client) open(ctx context.Context, p Pointer, a *Action) (io.ReadCloser, error) {
	req, err := c.newRequest(ctx, http.MethodGet, a.Href, a.Header, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, err, "download of "+short(p.OID))
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, c.statusError(resp, "download of "+short(p.OID))
	}
	if resp.ContentLength >= 0 && resp.ContentLength != p.Size {
		resp.Body.Close()
		return nil, corrupt(c.side, p, errors.New("the server announced "+strconv.FormatInt(resp.ContentLength, 10)+" bytes, the pointer says "+strconv.FormatInt(p.Size, 10)))
	}
	return resp.Body, nil
}

// put uploads p's data, read from body (p.Size bytes), with an upload
// action of c's server. The verify step, if the action set has one, is the
// caller's.
func (c *Client) put(ctx context.Context, p Pointer, actions map[string]*Action, body io.Reader) error {
	a := actions["upload"]
	req, err := c.newRequest(ctx, http.MethodPut, a.Href, a.Header, body)
	if err != nil {
		return err
	}
	req.ContentLength = p.Size
	if p.Size == 0 {
		req.Body = http.NoBody
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return c.transportError(ctx, err, "upload of "+short(p.OID))
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return c.statusError(resp, "upload of "+short(p.OID))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	return nil
}

// verify tells the server the upload of p is complete, as the basic
// transfer's verify step asks.
func (c *Client) verify(ctx context.Context, p Pointer, a *Action) error {
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	req, err := c.newRequest(ctx, http.MethodPost, a.Href, a.Header, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Accept", mediaType)
	req.Header.Set("Content-Type", mediaType)
	resp, err := c.http.Do(req)
	if err != nil {
		return c.transportError(ctx, err, "verification of "+short(p.OID))
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return c.statusError(resp, "verification of "+short(p.OID))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
	return nil
}

// corruptError is a download whose data did not match the pointer; worth
// another try, since the next download may be whole.
type corruptError struct {
	side string
	p    Pointer
	err  error
}

func corrupt(side string, p Pointer, err error) error {
	return &corruptError{side: side, p: p, err: err}
}

func (e *corruptError) Error() string {
	return "the " + e.side + "'s LFS storage sent corrupt data for " + short(e.p.OID) + " (" + e.err.Error() + "); refused"
}

func (e *corruptError) Unwrap() error { return e.err }

// classOf is the failure class of a transfer error; corrupt data counts as
// a network fault (transient).
func classOf(err error) failure.Class {
	var ce *corruptError
	if errors.As(err, &ce) {
		return failure.Network
	}
	return failure.ClassOf(err)
}

// short abbreviates an object id for messages.
func short(oid string) string {
	if len(oid) > 12 {
		return oid[:12]
	}
	return oid
}
