package lfs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
)

// Operation is what a batch request asks links for.
type Operation string

// The batch API's operations.
const (
	Download Operation = "download"
	Upload   Operation = "upload"
)

// batchSize is how many objects one batch request names, as git-lfs does.
const batchSize = 100

// maxBatchResponse bounds a batch response: a hundred objects with a few
// headers each fit many times over.
const maxBatchResponse = 8 << 20

// expiryMargin is how long before its stated expiry a link is no longer
// used: a transfer started just before would fail half-way.
const expiryMargin = 10 * time.Second

type batchRequest struct {
	Operation Operation `json:"operation"`
	Transfers []string  `json:"transfers"`
	Objects   []Pointer `json:"objects"`
	HashAlgo  string    `json:"hash_algo"`
}

type batchResponse struct {
	Transfer string   `json:"transfer"`
	Objects  []Object `json:"objects"`
	HashAlgo string   `json:"hash_algo"`
}

// Object is the server's answer for one object of a batch request.
type Object struct {
	OID           string             `json:"oid"`
	Size          int64              `json:"size"`
	Authenticated bool               `json:"authenticated"`
	Actions       map[string]*Action `json:"actions"`
	Error         *ObjectError       `json:"error"`
}

// ObjectError is a per-object error of a batch response (404: the server
// does not have it; 422: invalid, e.g. too large).
type ObjectError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Action is a link the server gives for one transfer step. Header values
// may be credentials: they are sent, never logged.
type Action struct {
	Href      string            `json:"href"`
	Header    map[string]string `json:"header"`
	ExpiresIn int64             `json:"expires_in"`
	ExpiresAt time.Time         `json:"expires_at"`

	deadline time.Time // when to stop using it; zero: no expiry stated
}

// expired reports whether the link is too close to its expiry to start a
// transfer with.
func (a *Action) expired(now time.Time) bool {
	return !a.deadline.IsZero() && now.Add(expiryMargin).After(a.deadline)
}

// stamp turns expires_in (relative to when the answer came) and expires_at
// into one deadline, the earlier of the two.
func (a *Action) stamp(received time.Time) {
	if !a.ExpiresAt.IsZero() {
		a.deadline = a.ExpiresAt
	}
	if a.ExpiresIn > 0 {
		d := received.Add(time.Duration(a.ExpiresIn) * time.Second)
		if a.deadline.IsZero() || d.Before(a.deadline) {
			a.deadline = d
		}
	}
}

// Batch asks the server for links to transfer objs (any number; they are
// sent a hundred at a time). The answer has one Object per requested one,
// in no particular order. A server without LFS for the repository gives an
// *UnavailableError (errors.Is(err, ErrNoLFS)).
func (c *Client) Batch(ctx context.Context, op Operation, objs []Pointer) ([]Object, error) {
	out := make([]Object, 0, len(objs))
	for start := 0; start < len(objs); start += batchSize {
		chunk := objs[start:min(start+batchSize, len(objs))]
		got, err := c.batch(ctx, op, chunk)
		if err != nil {
			return out, err
		}
		out = append(out, got...)
	}
	return out, nil
}

func (c *Client) batch(ctx context.Context, op Operation, objs []Pointer) ([]Object, error) {
	body, err := json.Marshal(batchRequest{Operation: op, Transfers: []string{"basic"}, Objects: objs, HashAlgo: "sha256"})
	if err != nil {
		return nil, fmt.Errorf("error encoding LFS batch request: %w", err)
	}
	req, err := c.newRequest(ctx, http.MethodPost, c.url+"/objects/batch", nil, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", mediaType)
	req.Header.Set("Content-Type", mediaType)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, err, "batch request")
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound, http.StatusForbidden, http.StatusNotImplemented:
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return nil, &UnavailableError{Side: c.side, URL: c.url, Status: resp.StatusCode, Said: c.redact(serverMessage(b))}
	default:
		return nil, c.statusError(resp, "batch request")
	}
	received := time.Now()
	lr := &io.LimitedReader{R: resp.Body, N: maxBatchResponse + 1}
	rec := &readErr{r: lr}
	var br batchResponse
	if err := json.NewDecoder(rec).Decode(&br); err != nil {
		switch {
		case lr.N <= 0:
			return nil, failure.New(failure.Internal, "the %s's LFS batch answer is larger than %d bytes; refused", c.side, maxBatchResponse)
		case rec.err != nil && rec.err != io.EOF:
			return nil, c.transportError(ctx, rec.err, "batch request")
		}
		return nil, failure.New(failure.Internal, "the %s's LFS batch answer is not the batch API's JSON: %s", c.side, c.redact(err.Error()))
	}
	if br.Transfer != "" && br.Transfer != "basic" {
		return nil, failure.New(failure.Internal, "the %s's LFS server chose the %q transfer, but only basic was offered", c.side, br.Transfer)
	}
	asked := make(map[string]bool, len(objs))
	for _, o := range objs {
		asked[o.OID] = true
	}
	for i := range br.Objects {
		o := &br.Objects[i]
		if !asked[o.OID] {
			return nil, failure.New(failure.Internal, "the %s's LFS batch answer names an object that was not asked for", c.side)
		}
		for _, a := range o.Actions {
			if a != nil {
				a.stamp(received)
			}
		}
	}
	return br.Objects, nil
}

// readErr remembers the error of the reader under a decoder, to tell a
// broken connection from a malformed answer.
type readErr struct {
	r   io.Reader
	err error
}

func (r *readErr) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	if err != nil {
		r.err = err
	}
	return n, err
}
