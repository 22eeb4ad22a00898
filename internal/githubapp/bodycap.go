package githubapp

import (
	"io"
	"net/http"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
)

// maxAPIBody caps an API answer. The largest the client asks for (a page of
// 100 repositories, a settings file through the contents API) is well under
// 2 MiB.
const maxAPIBody = 16 << 20

// capBodies wraps base (http.DefaultTransport when nil) so that no API
// answer is read beyond maxAPIBody: reading on fails with a classified
// error. Downloads (Accept: application/octet-stream, release assets) are
// streams, not answers, and pass as they are.
func capBodies(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if _, ok := base.(*bodyCap); ok {
		return base
	}
	return &bodyCap{base: base}
}

type bodyCap struct{ base http.RoundTripper }

func (b *bodyCap) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := b.base.RoundTrip(req)
	if err != nil || req.Header.Get("Accept") == "application/octet-stream" {
		return resp, err
	}
	resp.Body = &cappedBody{rc: resp.Body, left: maxAPIBody, what: req.Method + " " + req.URL.Path}
	return resp, nil
}

// cappedBody fails a read past its cap.
type cappedBody struct {
	rc   io.ReadCloser
	left int64
	what string
}

func (c *cappedBody) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		if n, err := io.ReadFull(c.rc, one[:]); n == 0 {
			return 0, err // io.EOF at the end, else the stream's own error
		}
		return 0, failure.New(failure.Rejected,
			"GitHub answered %s with more than %d MiB, more than any answer to it can be; not read further: is the API URL right?",
			c.what, maxAPIBody>>20)
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.rc.Read(p)
	c.left -= int64(n)
	return n, err
}

func (c *cappedBody) Close() error { return c.rc.Close() }
