package mirror

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
)

// errAdvertisementTooLarge is a ref advertisement beyond maxAdvertisement.
var errAdvertisementTooLarge = errors.New("ref advertisement too large")

// decodeAdvertisement reads a ref advertisement of at most maxAdvertisement
// bytes from body.
func (r *remote) decodeAdvertisement(ctx context.Context, body io.Reader) (*packp.AdvRefs, error) {
	ar, err := decodeAdvRefs(body, maxAdvertisement)
	switch {
	case errors.Is(err, errAdvertisementTooLarge):
		return nil, r.tooMuch(fmt.Sprintf("a ref advertisement of more than %d MiB", maxAdvertisement>>20))
	case err != nil:
		return nil, r.streamError(ctx, fmt.Errorf("error reading ref advertisement: %w", err))
	}
	return ar, nil
}

// decodeAdvRefs decodes an advertisement, refusing one longer than limit
// bytes. An empty advertisement (an empty repository over the dumb
// protocol's shape) is an empty list.
func decodeAdvRefs(body io.Reader, limit int64) (*packp.AdvRefs, error) {
	lr := &cappedReader{r: body, left: limit}
	ar := packp.NewAdvRefs()
	if err := ar.Decode(lr); err != nil {
		if lr.over {
			return nil, errAdvertisementTooLarge
		}
		if errors.Is(err, packp.ErrEmptyAdvRefs) {
			return ar, nil
		}
		return nil, err
	}
	return ar, nil
}

// cappedReader reads at most left bytes; one more is an error, and over
// records that the cap, not the stream, ended the read.
type cappedReader struct {
	r    io.Reader
	left int64
	over bool
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// One byte more tells a stream at the cap from one beyond it.
		var one [1]byte
		n, err := io.ReadFull(c.r, one[:])
		if n > 0 {
			c.over = true
			return 0, errAdvertisementTooLarge
		}
		return 0, err // io.EOF at the end, else the stream's own error
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}
