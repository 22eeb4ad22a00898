package lfs

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
)

// errCorrupt marks data that did not match its pointer.
var errCorrupt = errors.New("the object's data does not match its size and sha256")

// verifier passes an object's data through while checking it against its
// pointer. It holds back the last byte until the source has ended and the
// size and sha256 have been checked, so that a reader of it (an upload)
// never receives a complete body for corrupt data: on a mismatch it fails
// instead, and the upload is cut short.
type verifier struct {
	r    io.Reader
	want Pointer
	h    hash.Hash
	n    int64 // bytes passed on
	last []byte
	err  error
}

func newVerifier(r io.Reader, want Pointer) *verifier {
	return &verifier{r: r, want: want, h: sha256.New()}
}

func (v *verifier) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if v.last != nil {
		n := copy(p, v.last)
		v.last = v.last[n:]
		v.n += int64(n)
		if len(v.last) == 0 {
			v.err = io.EOF
		}
		return n, nil
	}
	// Pass everything but the last byte straight through.
	if room := v.want.Size - 1 - v.n; room > 0 {
		if int64(len(p)) > room {
			p = p[:room]
		}
		n, err := v.r.Read(p)
		v.h.Write(p[:n])
		v.n += int64(n)
		if err == io.EOF {
			return n, v.fail(fmt.Errorf("%w: it ended after %d of %d bytes", errCorrupt, v.n, v.want.Size))
		}
		if err != nil {
			v.err = err
		}
		return n, err
	}
	// Read the rest, which must be exactly the last byte, then check.
	tail, err := io.ReadAll(io.LimitReader(v.r, 2))
	if err != nil {
		return 0, v.fail(err)
	}
	held := v.want.Size - v.n
	if int64(len(tail)) != held {
		return 0, v.fail(fmt.Errorf("%w: it is not %d bytes long", errCorrupt, v.want.Size))
	}
	v.h.Write(tail)
	if got := hex.EncodeToString(v.h.Sum(nil)); got != v.want.OID {
		return 0, v.fail(fmt.Errorf("%w: its sha256 is %s", errCorrupt, got))
	}
	if held == 0 {
		v.err = io.EOF
		return 0, io.EOF
	}
	v.last = tail
	return v.Read(p)
}

func (v *verifier) fail(err error) error {
	v.err = err
	return err
}
