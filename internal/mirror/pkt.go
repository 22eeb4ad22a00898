package mirror

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing/format/pktline"
)

// sidebandReader returns the data of band 1 of a side-band-64k stream.
// Band 2 (progress, hook output) is handed to onProgress; band 3 is a fatal
// error from the server.
type sidebandReader struct {
	sc         *pktline.Scanner
	pending    []byte
	onProgress func([]byte)
	done       bool
}

// errRemote is a message the server sent on the error band or as "ERR".
type errRemote struct{ msg string }

func (e *errRemote) Error() string { return "remote error: " + e.msg }

func newSidebandReader(sc *pktline.Scanner, first []byte, onProgress func([]byte)) *sidebandReader {
	r := &sidebandReader{sc: sc, onProgress: onProgress}
	if first != nil {
		if err := r.take(first); err != nil {
			r.done = true
		}
	}
	return r
}

func (r *sidebandReader) take(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	switch p[0] {
	case 1:
		r.pending = p[1:]
	case 2:
		if r.onProgress != nil {
			r.onProgress(p[1:])
		}
	case 3:
		return &errRemote{msg: string(bytes.TrimSpace(p[1:]))}
	default:
		if bytes.HasPrefix(p, []byte("ERR ")) {
			return &errRemote{msg: string(bytes.TrimSpace(p[4:]))}
		}
		return fmt.Errorf("unexpected side-band channel %d", p[0])
	}
	return nil
}

func (r *sidebandReader) Read(b []byte) (int, error) {
	for len(r.pending) == 0 {
		if r.done {
			return 0, io.EOF
		}
		if !r.sc.Scan() {
			if err := r.sc.Err(); err != nil {
				return 0, err
			}
			return 0, io.ErrUnexpectedEOF
		}
		p := r.sc.Bytes()
		if len(p) == 0 { // flush: end of stream
			r.done = true
			return 0, io.EOF
		}
		if err := r.take(p); err != nil {
			r.done = true
			return 0, err
		}
	}
	n := copy(b, r.pending)
	r.pending = r.pending[n:]
	return n, nil
}

// encodeLines writes pkt-lines, each payload followed by "\n" unless it
// already carries a NUL-separated capability list ending in "\n".
func encodeLines(w io.Writer, lines []string) error {
	enc := pktline.NewEncoder(w)
	for _, l := range lines {
		if l == "" {
			if err := enc.Flush(); err != nil {
				return err
			}
			continue
		}
		if err := enc.EncodeString(l + "\n"); err != nil {
			return err
		}
	}
	return nil
}

// emptyPack is a valid pack with no objects: what a push sends when every
// object it needs is already on the target.
var emptyPack = []byte{
	'P', 'A', 'C', 'K', 0, 0, 0, 2, 0, 0, 0, 0,
	0x02, 0x9d, 0x08, 0x82, 0x3b, 0xd8, 0xa8, 0xea, 0xb5, 0x10,
	0xad, 0x6a, 0xc7, 0x5c, 0x82, 0x3c, 0xfd, 0x3e, 0xd3, 0x1e,
}

var errNoPack = errors.New("no pack in response")
