package mirror_test

import (
	"bytes"
	"compress/zlib"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Pieces of Git's smart HTTP protocol, for servers that send what no honest
// one would.

// pkt is one pkt-line.
func pkt(s string) string { return fmt.Sprintf("%04x%s", len(s)+4, s) }

// band wraps data into side-band-64k packets of channel ch.
func band(ch byte, data []byte) []byte {
	var out bytes.Buffer
	for len(data) > 0 {
		n := min(len(data), 65000)
		out.WriteString(pkt(string(append([]byte{ch}, data[:n]...))))
		data = data[n:]
	}
	return out.Bytes()
}

// packHeader is the 12-byte header of a version 2 pack of count objects.
func packHeader(count uint32) []byte {
	b := []byte{'P', 'A', 'C', 'K', 0, 0, 0, 2, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[8:], count)
	return b
}

// objectHeader encodes a pack entry's type (1 commit … 6 ofs-delta) and
// declared size.
func objectHeader(typ byte, size uint64) []byte {
	b := []byte{typ<<4 | byte(size&0x0f)}
	size >>= 4
	for size != 0 {
		b[len(b)-1] |= 0x80
		b = append(b, byte(size&0x7f))
		size >>= 7
	}
	return b
}

func deflate(data []byte) []byte {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

// leb128 is the size encoding of a delta's header.
func leb128(v uint64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// finishPack appends the trailing SHA-1 of a pack.
func finishPack(p []byte) []byte {
	sum := sha1.Sum(p)
	return append(p, sum[:]...)
}

// commitBody is a commit with the empty tree and the given parent lines.
func commitBody(parents int) []byte {
	var b strings.Builder
	b.WriteString("tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n")
	for i := 0; i < parents; i++ {
		fmt.Fprintf(&b, "parent %040x\n", i+1)
	}
	b.WriteString("author a <a@example.com> 0 +0000\ncommitter a <a@example.com> 0 +0000\n\nm\n")
	return []byte(b.String())
}

// commitID is the object id of a commit body.
func commitID(body []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "commit %d\x00", len(body))
	h.Write(body)
	return fmt.Sprintf("%x", h.Sum(nil))
}

// hostileSource serves one repository with refs/heads/main at head: the
// advertisement is adv (nil: an honest one) and upload-pack answers with
// negotiation then the pack on band 1.
type hostileSource struct {
	head        string
	adv         func(w io.Writer)
	negotiation func(w io.Writer)
	pack        []byte
	// commits, when set, is advertised with "filter" and sent for a fetch
	// that asks for one.
	commits []byte
}

func (h hostileSource) serve(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/info/refs"):
			w.Header().Set("Content-Type", "application/x-git-upload-pack-advertisement")
			io.WriteString(w, pkt("# service=git-upload-pack\n")+"0000")
			if h.adv != nil {
				h.adv(w)
				return
			}
			filter := ""
			if h.commits != nil {
				filter = " filter"
			}
			io.WriteString(w, pkt(h.head+" HEAD\x00side-band-64k ofs-delta thin-pack no-progress"+filter+" symref=HEAD:refs/heads/main agent=git/2.43\n")+
				pkt(h.head+" refs/heads/main\n")+"0000")
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/git-upload-pack"):
			req, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			w.Header().Set("Content-Type", "application/x-git-upload-pack-result")
			if h.negotiation != nil {
				h.negotiation(w)
				return
			}
			io.WriteString(w, pkt("NAK\n"))
			if h.commits != nil && bytes.Contains(req, []byte("filter ")) {
				w.Write(band(1, h.commits))
			} else {
				w.Write(band(1, h.pack))
			}
			io.WriteString(w, "0000")
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/gh/proj.git"
}

// hostileTarget is an empty repository whose receive-pack answers every push
// with report, written on band 1.
func hostileTarget(t *testing.T, report func(w io.Writer)) string {
	t.Helper()
	zero := strings.Repeat("0", 40)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/info/refs"):
			w.Header().Set("Content-Type", "application/x-git-receive-pack-advertisement")
			io.WriteString(w, pkt("# service=git-receive-pack\n")+"0000"+
				pkt(zero+" capabilities^{}\x00report-status side-band-64k ofs-delta quiet delete-refs agent=git/2.43\n")+"0000")
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/git-receive-pack"):
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/x-git-receive-pack-result")
			report(w)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/ge/proj.git"
}

// writeUntil calls write until it fails (the client hung up) or limit bytes
// went out, so that a hostile handler always ends by itself.
func writeUntil(w io.Writer, limit int64, next func(i int) []byte) {
	var sent int64
	for i := 0; sent < limit; i++ {
		p := next(i)
		if _, err := w.Write(p); err != nil {
			return
		}
		sent += int64(len(p))
	}
}
