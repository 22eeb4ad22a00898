package mirror

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/pktline"
)

// Fuzz targets for every parser of what a Git server sends. Each seed corpus
// holds honest answers and the hostile shapes of hostile_test.go; crashes
// found are kept in testdata/fuzz/<Target>.

func pktf(s string) string { return fmt.Sprintf("%04x%s", len(s)+4, s) }

// FuzzPktLines: what encodeLines writes, go-git's scanner reads back line by
// line, for any lines a caller could pass.
func FuzzPktLines(f *testing.F) {
	f.Add("want 0123456789012345678901234567890123456789 side-band-64k\n\nhave 0123456789012345678901234567890123456789\ndone")
	f.Add("\n\n")
	f.Add("ERR not an error: a line like any other\n0000\nfff0")
	f.Fuzz(func(t *testing.T, joined string) {
		lines := strings.Split(joined, "\n")
		var buf bytes.Buffer
		if err := encodeLines(&buf, lines); err != nil {
			for _, l := range lines {
				if len(l)+1 > pktline.MaxPayloadSize {
					return // refused as too long, rightly
				}
			}
			t.Fatalf("encodeLines(%q): %v", lines, err)
		}
		sc := pktline.NewScanner(&buf)
		for i, l := range lines {
			if !sc.Scan() {
				// A line "ERR <text>" is the server's error message to
				// go-git's scanner (streamError reports it as such).
				var el *pktline.ErrorLine
				if errors.As(sc.Err(), &el) && strings.HasPrefix(l, "ERR ") && el.Text == strings.TrimSpace(l[4:]) {
					return
				}
				t.Fatalf("line %d: %v", i, sc.Err())
			}
			want := l + "\n"
			if l == "" {
				want = "" // a flush
			}
			if got := string(sc.Bytes()); got != want {
				t.Fatalf("line %d = %q, want %q", i, got, want)
			}
		}
	})
}

// FuzzSideband: band 1 comes out, progress goes to its callback, and no
// input makes the reader allocate beyond one pkt-line or loop forever.
func FuzzSideband(f *testing.F) {
	f.Add([]byte(pktf("\x01PACK")+pktf("\x02counting objects\r")+pktf("\x01more")+"0000"), true)
	f.Add([]byte(pktf("\x03fatal: go away\n")), false)
	f.Add([]byte(pktf("ERR access denied")), true)
	f.Add([]byte(pktf("\x07what")), false)
	f.Add([]byte("fff0"), true)
	f.Add([]byte("zzzz"), false)
	f.Fuzz(func(t *testing.T, data []byte, first bool) {
		sc := pktline.NewScanner(bytes.NewReader(data))
		var head []byte
		if first && sc.Scan() {
			head = append([]byte(nil), sc.Bytes()...)
		}
		progress := 0
		r := newSidebandReader(sc, head, func(b []byte) { progress += len(b) })
		out, _ := io.ReadAll(r)
		if len(out)+progress > len(data) {
			t.Fatalf("%d bytes out of %d in", len(out)+progress, len(data))
		}
	})
}

// FuzzAdvertisement: any ref advertisement decodes or fails, within the cap.
func FuzzAdvertisement(f *testing.F) {
	head := "0123456789012345678901234567890123456789"
	f.Add([]byte(pktf("# service=git-upload-pack\n")+"0000"+
		pktf(head+" HEAD\x00side-band-64k ofs-delta symref=HEAD:refs/heads/main\n")+
		pktf(head+" refs/heads/main\n")+pktf(head+" refs/tags/v1^{}\n")+"0000"), int64(1<<20))
	f.Add([]byte(pktf(strings.Repeat("0", 40)+" capabilities^{}\x00report-status\n")+"0000"), int64(40))
	f.Add([]byte("0000"), int64(4))
	f.Add([]byte(pktf(head+" refs/heads/b\n")), int64(10))
	f.Fuzz(func(t *testing.T, data []byte, limit int64) {
		if limit < 0 {
			limit = -limit
		}
		ar, err := decodeAdvRefs(bytes.NewReader(data), limit)
		if err == nil && ar == nil {
			t.Fatal("nil advertisement without an error")
		}
		if err == errAdvertisementTooLarge && int64(len(data)) <= limit {
			t.Fatalf("%d bytes refused under a cap of %d", len(data), limit)
		}
	})
}

// FuzzReportStatus: a push report, plain or in side-band, never records more
// refs than lines allowed.
func FuzzReportStatus(f *testing.F) {
	f.Add([]byte(pktf("unpack ok\n")+pktf("ok refs/heads/main\n")+pktf("ng refs/heads/x pre-receive hook declined\n")+"0000"), false, 4)
	f.Add([]byte(pktf("\x01"+pktf("unpack index-pack abnormal exit\n")+pktf("ng refs/heads/main n/a (unpacker error)\n")+"0000")+pktf("\x02remote: hi\n")+"0000"), true, 3)
	f.Add([]byte(pktf("ok refs/heads/main\n")), false, 1)
	f.Add([]byte(""), false, 1)
	f.Fuzz(func(t *testing.T, data []byte, sideband bool, maxLines int) {
		if maxLines < 0 || maxLines > 1<<16 {
			maxLines = 4
		}
		var r io.Reader = bytes.NewReader(data)
		if sideband {
			r = newSidebandReader(pktline.NewScanner(r), nil, nil)
		}
		rep := &pushReport{refs: map[string]refStatus{}}
		err := parseReportStatus(r, rep, maxLines)
		if len(rep.refs) > maxLines {
			t.Fatalf("%d refs recorded, at most %d lines allowed (err %v)", len(rep.refs), maxLines, err)
		}
	})
}

// FuzzScanPack: no pack, whatever its header and entries claim, makes the
// scanner panic or allocate by a claim.
func FuzzScanPack(f *testing.F) {
	body := []byte("tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nparent 0123456789012345678901234567890123456789\nauthor a <a@b> 0 +0000\ncommitter a <a@b> 0 +0000\n\nm\n")
	f.Add(emptyPack)
	f.Add(packOf(1, entry(1, body)))
	f.Add(packOf(2, entry(1, body), ofsDelta(len(entry(1, body)), append(append(leb(len(body)), leb(len(body)+1)...), 0x90, byte(len(body)), 1, 'x'))))
	f.Add(packOf(0xffffffff))
	f.Add(packOf(1, append(objHeader(1, 1<<31), deflateBytes([]byte("x"))...)))
	f.Add(packOf(1, entry(2, []byte("100644 a\x00012345678901234567890"))))
	f.Fuzz(func(t *testing.T, pack []byte) {
		g := NewGraph()
		_ = scanPack(bytes.NewReader(pack), g)
		if g.Len() > len(pack) {
			t.Fatalf("%d commits from %d bytes", g.Len(), len(pack))
		}
		// The same pack, its deltas read again from a spool.
		spool, err := os.CreateTemp(t.TempDir(), "pack")
		if err != nil {
			t.Fatal(err)
		}
		defer spool.Close()
		gs := NewGraph()
		_ = scanPackSpooled(bytes.NewReader(pack), gs, spool)
		if gs.Len() > len(pack) {
			t.Fatalf("spooled: %d commits from %d bytes", gs.Len(), len(pack))
		}
	})
}

// packOf is a version 2 pack announcing count objects, with entries.
func packOf(count uint32, entries ...[]byte) []byte {
	p := []byte{'P', 'A', 'C', 'K', 0, 0, 0, 2, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(p[8:], count)
	for _, e := range entries {
		p = append(p, e...)
	}
	return append(p, make([]byte, 20)...) // a trailer; the scanner does not check it
}

func objHeader(typ byte, size uint64) []byte {
	b := []byte{typ<<4 | byte(size&0x0f)}
	for size >>= 4; size != 0; size >>= 7 {
		b[len(b)-1] |= 0x80
		b = append(b, byte(size&0x7f))
	}
	return b
}

func deflateBytes(b []byte) []byte {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func entry(typ byte, body []byte) []byte {
	return append(objHeader(typ, uint64(len(body))), deflateBytes(body)...)
}

// ofsDelta is a delta entry whose base starts back bytes before it (< 128).
func ofsDelta(back int, delta []byte) []byte {
	e := append(objHeader(6, uint64(len(delta))), byte(back))
	return append(e, deflateBytes(delta)...)
}

func leb(v int) []byte {
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

// FuzzFetchV2Response: whatever a server answers a version 2 fetch with, the
// pack read out of it is never longer than the answer, and an answer that
// is not a packfile section is an error.
func FuzzFetchV2Response(f *testing.F) {
	f.Add([]byte(pktf("packfile\n") + pktf("\x01PACK") + pktf("\x02Counting\r") + "0000"))
	f.Add([]byte(pktf("ERR upload-pack: not our ref 0123456789012345678901234567890123456789")))
	f.Add([]byte(pktf("acknowledgments\n") + pktf("NAK\n") + "0001" + pktf("packfile\n") + "0000"))
	f.Add([]byte(""))
	f.Add([]byte("0000"))
	f.Add([]byte(pktf("packfile\n") + pktf("\x03fatal: gone\n")))
	var mu sync.Mutex
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		answer := body
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-git-upload-pack-result")
		w.Write(answer)
	}))
	f.Cleanup(srv.Close)
	f.Fuzz(func(t *testing.T, data []byte) {
		mu.Lock()
		body = data // one input at a time in a process
		mu.Unlock()
		r, err := newRemote("source", Endpoint{URL: srv.URL + "/o/r.git"}, srv.Client(), "test", func(s string) string { return s })
		if err != nil {
			t.Fatal(err)
		}
		pack, err := r.fetchV2(context.Background(), []plumbing.Hash{plumbing.NewHash("0123456789012345678901234567890123456789")}, nil, true)
		if err != nil {
			if pack != nil {
				t.Fatal("a pack with an error")
			}
			return
		}
		defer pack.Close()
		sc := pktline.NewScanner(bytes.NewReader(data))
		if !sc.Scan() || strings.TrimSuffix(string(sc.Bytes()), "\n") != "packfile" {
			t.Fatalf("answer %q taken for a packfile section", data)
		}
		out, _ := io.ReadAll(pack)
		if len(out) > len(data) {
			t.Fatalf("%d bytes of pack out of a %d-byte answer", len(out), len(data))
		}
	})
}
