package mirror

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/pktline"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
)

const (
	advA = "1111111111111111111111111111111111111111"
	advB = "2222222222222222222222222222222222222222"
	advZ = "0000000000000000000000000000000000000000"
)

func TestDecodeAdvRefs(t *testing.T) {
	t.Parallel()
	svc := pktf("# service=git-upload-pack\n") + "0000"
	caps := "\x00multi_ack side-band-64k ofs-delta symref=HEAD:refs/heads/main agent=git/2.39.5\n"
	type refs = map[string]string
	tests := []struct {
		name          string
		in            string
		refs, peeled  refs
		caps          string // one capability the list must have
		wantErr       string // in the error's text
		wantErrorLine bool   // a *pktline.ErrorLine (the server's ERR)
		wantBadID     bool   // an *errAdvID
	}{
		{name: "smart HTTP", in: svc + pktf(advA+" HEAD"+caps) + pktf(advA+" refs/heads/main\n") +
			pktf(advB+" refs/tags/v1\n") + pktf(advA+" refs/tags/v1^{}\n") + "0000",
			refs: refs{"refs/heads/main": advA, "refs/tags/v1": advB}, peeled: refs{"refs/tags/v1": advA}, caps: "side-band-64k"},
		{name: "no service line", in: pktf(advB+" refs/heads/x"+caps) + "0000",
			refs: refs{"refs/heads/x": advB}, peeled: refs{}, caps: "ofs-delta"},
		{name: "HEAD after the first line is a ref", in: pktf(advB+" refs/heads/x"+caps) + pktf(advA+" HEAD\n") + "0000",
			refs: refs{"refs/heads/x": advB, "HEAD": advA}, peeled: refs{}},
		{name: "empty repository", in: svc + pktf(advZ+" capabilities^{}\x00report-status delete-refs\n") + "0000",
			refs: refs{}, peeled: refs{}, caps: "delete-refs"},
		{name: "no ref line at all", in: svc + "0000", refs: refs{}, peeled: refs{}},
		{name: "a flush only", in: "0000", refs: refs{}, peeled: refs{}},
		{name: "upper-case ids", in: pktf(strings.ToUpper("abcdef"+advA[6:])+" refs/heads/u"+caps) + "0000",
			refs: refs{"refs/heads/u": "abcdef" + advA[6:]}, peeled: refs{}},
		{name: "a newline-only line ends it", in: pktf(advA+" refs/heads/a"+caps) + pktf("\n") + "garbage",
			refs: refs{"refs/heads/a": advA}, peeled: refs{}},
		{name: "shallow lines", in: pktf(advA+" refs/heads/a"+caps) + pktf("shallow "+advB+"\n") + "0000",
			refs: refs{"refs/heads/a": advA}, peeled: refs{}},

		{name: "empty body", in: "", wantErr: "empty ref advertisement"},
		{name: "cut before the flush", in: svc + pktf(advA+" refs/heads/a"+caps), wantErr: "unexpected EOF"},
		{name: "cut inside a line", in: svc + pktf(advA + " refs/heads/a" + caps)[:30], wantErr: "unexpected EOF"},
		{name: "ERR from the server", in: pktf("ERR access denied\n"), wantErrorLine: true},
		{name: "bad length", in: "00zz", wantErr: "invalid pkt-len"},
		{name: "length 4", in: "0004", wantErr: "invalid pkt-len"},
		{name: "short id", in: pktf("abc refs/heads/a" + caps), wantBadID: true},
		{name: "not hex", in: pktf(strings.Repeat("g", 40) + " refs/heads/a" + caps), wantBadID: true},
		{name: "SHA-256 id", in: pktf(advA+" refs/heads/a"+caps) + pktf(advA+advA[:24]+" refs/heads/b\n") + "0000", wantBadID: true},
		{name: "a long first word", in: pktf(advA+" refs/heads/a"+caps) + pktf(strings.Repeat("a", 5000)+" refs/heads/b\n") + "0000", wantBadID: true},
		{name: "two spaces", in: pktf(advA+" refs/heads/a"+caps) + pktf(advA+" refs/heads/b c\n") + "0000", wantErr: "one space"},
		{name: "no capabilities", in: pktf(advA+" refs/heads/a\n") + "0000", wantErr: "no capabilities"},
		{name: "zero id without capabilities^{}", in: pktf(advZ+" refs/heads/a"+caps) + "0000", wantErr: "malformed zero-id"},
		{name: "a ref after shallow lines", in: pktf(advA+" refs/heads/a"+caps) + pktf("shallow "+advB+"\n") +
			pktf(advB+" refs/heads/b\n") + "0000", wantErr: "after the shallow"},
		{name: "malformed shallow", in: pktf(advA+" refs/heads/a"+caps) + pktf("shallow 12\n") + "0000", wantErr: "malformed shallow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ar, err := decodeAdvRefs(strings.NewReader(tt.in), 1<<20)
			var el *pktline.ErrorLine
			switch {
			case tt.wantErrorLine:
				if !errors.As(err, &el) || el.Text != "access denied" {
					t.Fatalf("error %v, want the server's ERR line", err)
				}
				return
			case tt.wantBadID:
				checkBadID(t, err)
				return
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tt.wantErr)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			checkDecoded(t, ar, tt.refs, tt.peeled)
			if tt.caps != "" && !ar.Capabilities.Supports(capability.Capability(tt.caps)) {
				t.Errorf("capabilities %q lack %s", ar.Capabilities.String(), tt.caps)
			}
		})
	}
}

// checkDecoded compares the refs and peeled values a decoder read with
// the ones wanted.
func checkDecoded(t *testing.T, ar *advRefs, refs, peeled map[string]string) {
	t.Helper()
	if got := hexRefs(ar.References); !maps.Equal(got, refs) {
		t.Errorf("refs %v, want %v", got, refs)
	}
	if got := hexRefs(ar.Peeled); !maps.Equal(got, peeled) {
		t.Errorf("peeled %v, want %v", got, peeled)
	}
}

// checkBadID fails unless err is an *errAdvID short enough for a log.
func checkBadID(t *testing.T, err error) {
	t.Helper()
	var bad *errAdvID
	if !errors.As(err, &bad) {
		t.Fatalf("error %v, want an *errAdvID", err)
	}
	if len(err.Error()) > 200 {
		t.Fatalf("error of %d bytes: %.200s…", len(err.Error()), err)
	}
}

func hexRefs(m map[string]plumbing.Hash) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v.String()
	}
	return out
}

// TestDecodeAdvRefsCap: an advertisement longer than the cap is refused as
// too large, one of exactly the cap is read (what follows its flush-pkt is
// not).
func TestDecodeAdvRefsCap(t *testing.T) {
	t.Parallel()
	in := pktf(advA+" refs/heads/a\x00ofs-delta\n") + "0000"
	if _, err := decodeAdvRefs(strings.NewReader(in), int64(len(in))); err != nil {
		t.Fatalf("at the cap: %v", err)
	}
	if _, err := decodeAdvRefs(strings.NewReader(in+"0000"), int64(len(in))); err != nil {
		t.Fatalf("at the cap, more after it: %v", err)
	}
	if _, err := decodeAdvRefs(strings.NewReader(in), int64(len(in)-1)); !errors.Is(err, errAdvertisementTooLarge) {
		t.Fatalf("beyond the cap: %v, want errAdvertisementTooLarge", err)
	}
}

// goGitAdvRefs decodes data with go-git's decoder, as decodeAdvRefs did
// before it had its own: an advertisement with no ref line is empty.
func goGitAdvRefs(data []byte) (*packp.AdvRefs, error) {
	ar := packp.NewAdvRefs()
	if err := ar.Decode(bytes.NewReader(data)); err != nil && !errors.Is(err, packp.ErrEmptyAdvRefs) {
		return nil, err
	}
	return ar, nil
}

// FuzzAdvRefs checks decodeAdvRefs against go-git's decoder on the same
// input: what one reads, the other reads the same (refs, peeled tags,
// capabilities), and what go-git reads ours reads too, except an id that is
// not 40 hexadecimal digits (go-git takes whatever it decodes to).
func FuzzAdvRefs(f *testing.F) {
	caps := "\x00multi_ack side-band-64k ofs-delta symref=HEAD:refs/heads/main agent=git/2.39.5\n"
	f.Add([]byte(pktf("# service=git-upload-pack\n") + "0000" + pktf(advA+" HEAD"+caps) + pktf(advA+" refs/heads/main\n") +
		pktf(advB+" refs/tags/v1\n") + pktf(advA+" refs/tags/v1^{}\n") + "0000"))
	f.Add([]byte(pktf(advZ+" capabilities^{}\x00report-status\n") + "0000"))
	f.Add([]byte(pktf(advA+" refs/heads/a"+caps) + pktf("shallow "+advB+"\n") + "0000"))
	f.Add([]byte(pktf(advA+" refs/heads/a"+caps) + pktf("\n") + "0000"))
	f.Add([]byte(pktf("ERR no\n")))
	f.Add([]byte("0000"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ours, err := decodeAdvRefs(bytes.NewReader(data), 1<<20)
		theirs, gerr := goGitAdvRefs(data)
		if err != nil {
			var bad *errAdvID
			if gerr == nil && !(errors.As(err, &bad) && !plumbing.IsHash(strings.ToLower(bad.id)) && bytes.Contains(data, []byte(bad.id))) {
				t.Fatalf("go-git read it (%d refs), ours: %v", len(theirs.References), err)
			}
			var el, gel *pktline.ErrorLine
			if errors.As(err, &el) && (!errors.As(gerr, &gel) || gel.Text != el.Text) {
				t.Fatalf("ours: the server's ERR %q; go-git: %v", el.Text, gerr)
			}
			return
		}
		if gerr != nil {
			t.Fatalf("ours read it (%d refs), go-git: %v", len(ours.References), gerr)
		}
		if !maps.Equal(ours.References, theirs.References) || !maps.Equal(ours.Peeled, theirs.Peeled) {
			t.Fatalf("refs %v / %v, go-git %v / %v", ours.References, ours.Peeled, theirs.References, theirs.Peeled)
		}
		if a, b := ours.Capabilities.String(), theirs.Capabilities.String(); a != b {
			t.Fatalf("capabilities %q, go-git %q", a, b)
		}
	})
}

// BenchmarkDecodeAdvRefs: an advertisement the size of nginx/nginx's (617
// branches and tags, most tags annotated), with ours and with go-git's.
func BenchmarkDecodeAdvRefs(b *testing.B) {
	var buf strings.Builder
	buf.WriteString(pktf("# service=git-upload-pack\n") + "0000")
	buf.WriteString(pktf(advA + " HEAD\x00multi_ack thin-pack side-band side-band-64k ofs-delta shallow deepen-since deepen-not deepen-relative no-progress include-tag multi_ack_detailed allow-tip-sha1-in-want allow-reachable-sha1-in-want no-done symref=HEAD:refs/heads/master filter object-format=sha1 agent=git/2.39.5\n"))
	for i := range 617 {
		id := fmt.Sprintf("%040x", i*7919+1)
		if i < 100 {
			buf.WriteString(pktf(id + fmt.Sprintf(" refs/heads/branch-%d\n", i)))
			continue
		}
		buf.WriteString(pktf(id + fmt.Sprintf(" refs/tags/release-1.%d.%d\n", i/10, i%10)))
		buf.WriteString(pktf(fmt.Sprintf("%040x", i*104729+3) + fmt.Sprintf(" refs/tags/release-1.%d.%d^{}\n", i/10, i%10)))
	}
	buf.WriteString("0000")
	data := []byte(buf.String())
	for _, c := range []struct {
		name   string
		decode func([]byte) error
	}{
		{"ours", func(d []byte) error { _, err := decodeAdvRefs(bytes.NewReader(d), 1<<20); return err }},
		{"go-git", func(d []byte) error { _, err := goGitAdvRefs(d); return err }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if err := c.decode(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
