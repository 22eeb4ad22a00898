package mirror

import (
	"bytes"
	"errors"
	"maps"
	"strconv"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/pktline"
)

func TestDecodeLsRefs(t *testing.T) {
	t.Parallel()
	type refs = map[string]string
	tests := []struct {
		name          string
		in            string
		refs, peeled  refs
		wantErr       string // in the error's text
		wantNotV2     bool   // an *errNotV2: a version 0 server's answer
		wantErrorLine bool   // a *pktline.ErrorLine (the server's ERR)
		wantBadID     bool   // an *errAdvID
	}{
		{name: "branches and a peeled tag", in: pktf(advA+" refs/heads/main\n") + pktf(advB+" refs/tags/v1 peeled:"+advA+"\n") + "0000",
			refs: refs{"refs/heads/main": advA, "refs/tags/v1": advB}, peeled: refs{"refs/tags/v1": advA}},
		{name: "no refs", in: "0000", refs: refs{}, peeled: refs{}},
		{name: "HEAD with its symref is left out", in: pktf(advA+" HEAD symref-target:refs/heads/main\n") + pktf(advA+" refs/heads/main\n") + "0000",
			refs: refs{"refs/heads/main": advA}, peeled: refs{}},
		{name: "unborn HEAD", in: pktf("unborn HEAD symref-target:refs/heads/main\n") + "0000", refs: refs{}, peeled: refs{}},
		{name: "no newline", in: pktf(advA+" refs/heads/a") + "0000", refs: refs{"refs/heads/a": advA}, peeled: refs{}},
		{name: "upper-case ids", in: pktf(strings.ToUpper(advA[:0]+"abcdef"+advA[6:])+" refs/heads/u\n") + "0000",
			refs: refs{"refs/heads/u": "abcdef" + advA[6:]}, peeled: refs{}},
		{name: "unknown attributes", in: pktf(advA+" refs/heads/a future:x\n") + "0000", refs: refs{"refs/heads/a": advA}, peeled: refs{}},
		{name: "a newline-only line ends it", in: pktf(advA+" refs/heads/a\n") + pktf("\n") + "garbage",
			refs: refs{"refs/heads/a": advA}, peeled: refs{}},

		{name: "empty body: a version 0 server", in: "", wantNotV2: true},
		{name: "a version 0 advertisement", in: pktf("# service=git-upload-pack\n") + "0000", wantNotV2: true},
		{name: "a first line that is not a ref", in: pktf("NAK\n"), wantNotV2: true},
		{name: "a broken first line", in: "00zz", wantNotV2: true},
		{name: "ERR from the server", in: pktf("ERR access denied\n"), wantErrorLine: true},
		{name: "ERR after a ref", in: pktf(advA+" refs/heads/a\n") + pktf("ERR gone\n"), wantErrorLine: true},
		{name: "cut before the flush", in: pktf(advA + " refs/heads/a\n"), wantErr: "unexpected EOF"},
		{name: "cut inside a line", in: pktf(advA+" refs/heads/a\n") + pktf(advB + " refs/heads/b\n")[:20], wantErr: "unexpected EOF"},
		{name: "no name", in: pktf(advA+" refs/heads/a\n") + pktf(advB+"\n") + "0000", wantErr: "no name"},
		{name: "SHA-256 id", in: pktf(advA+" refs/heads/a\n") + pktf(advA+advA[:24]+" refs/heads/b\n") + "0000", wantBadID: true},
		{name: "short id", in: pktf(advA+" refs/heads/a\n") + pktf("abc refs/heads/b\n") + "0000", wantBadID: true},
		{name: "a long first word", in: pktf(advA+" refs/heads/a\n") + pktf(strings.Repeat("a", 5000)+" refs/heads/b\n") + "0000", wantBadID: true},
		{name: "bad peeled id", in: pktf(advA+" refs/heads/a\n") + pktf(advB+" refs/tags/t peeled:xyz\n") + "0000", wantBadID: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ar, err := decodeLsRefs(strings.NewReader(tt.in), 1<<20)
			var nv *errNotV2
			var el *pktline.ErrorLine
			switch {
			case tt.wantNotV2:
				if !errors.As(err, &nv) {
					t.Fatalf("error %v, want an *errNotV2", err)
				}
				return
			case tt.wantErrorLine:
				if !errors.As(err, &el) || errors.As(err, &nv) {
					t.Fatalf("error %v, want the server's ERR line", err)
				}
				return
			case tt.wantBadID:
				checkBadID(t, err)
				return
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || errors.As(err, &nv) {
					t.Fatalf("error %v, want one saying %q", err, tt.wantErr)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			checkDecoded(t, ar, tt.refs, tt.peeled)
		})
	}
}

// TestDecodeLsRefsCap: a listing longer than the cap is refused as too
// large, one of exactly the cap is read.
func TestDecodeLsRefsCap(t *testing.T) {
	t.Parallel()
	in := pktf(advA+" refs/heads/a\n") + "0000"
	if _, err := decodeLsRefs(strings.NewReader(in), int64(len(in))); err != nil {
		t.Fatalf("at the cap: %v", err)
	}
	if _, err := decodeLsRefs(strings.NewReader(in), int64(len(in)-1)); !errors.Is(err, errAdvertisementTooLarge) {
		t.Fatalf("beyond the cap: %v, want errAdvertisementTooLarge", err)
	}
}

// lsRefsOracle is a second, plain reading of an ls-refs answer, for
// FuzzLsRefs: pkt-lines up to the first flush (or newline-only line), each
// "<id> <name> <attributes>", HEAD and "unborn" lines left out. ok is false
// for anything decodeLsRefs must refuse.
func lsRefsOracle(data []byte) (refs, peeled map[string]string, ok bool) {
	refs, peeled = map[string]string{}, map[string]string{}
	isID := func(s string) bool { return len(s) == 40 && plumbing.IsHash(strings.ToLower(s)) }
	for {
		if len(data) < 4 {
			return nil, nil, false
		}
		n, err := strconv.ParseUint(string(data[:4]), 16, 16)
		if n == 0 && err == nil {
			return refs, peeled, true
		}
		if err != nil || n <= 4 || n > 65524 || int(n) > len(data) {
			return nil, nil, false // the limits of go-git's scanner
		}
		line := strings.TrimSuffix(string(data[4:n]), "\n")
		data = data[n:]
		if line == "" {
			return refs, peeled, true
		}
		if strings.HasPrefix(line, "ERR ") {
			return nil, nil, false
		}
		f := strings.Split(line, " ")
		if f[0] == "unborn" && len(f) > 1 && f[1] != "" {
			continue
		}
		if !isID(f[0]) || len(f) < 2 || f[1] == "" {
			return nil, nil, false
		}
		if f[1] == "HEAD" {
			continue
		}
		var p string
		for _, a := range f[2:] {
			if v, found := strings.CutPrefix(a, "peeled:"); found {
				if !isID(v) {
					return nil, nil, false
				}
				p = strings.ToLower(v)
			}
		}
		refs[f[1]] = strings.ToLower(f[0])
		if p != "" {
			peeled[f[1]] = p
		}
	}
}

// FuzzLsRefs checks decodeLsRefs against lsRefsOracle: both accept the same
// answers and read the same refs and peeled values from them, and one
// refused as the first line's is an *errNotV2 (on which a sync lists with
// version 0 instead) only when nothing was read before it.
func FuzzLsRefs(f *testing.F) {
	f.Add([]byte(pktf(advA+" refs/heads/main\n") + pktf(advB+" refs/tags/v1 peeled:"+advA+"\n") + "0000"))
	f.Add([]byte(pktf(advA+" HEAD symref-target:refs/heads/main\n") + pktf(advA+" refs/heads/main\n") + "0000"))
	f.Add([]byte(pktf("unborn HEAD symref-target:refs/heads/main\n") + "0000"))
	f.Add([]byte(pktf("# service=git-upload-pack\n") + "0000"))
	f.Add([]byte(pktf("ERR no\n")))
	f.Add([]byte("0000"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		ar, err := decodeLsRefs(bytes.NewReader(data), 1<<20)
		refs, peeled, ok := lsRefsOracle(data)
		if (err == nil) != ok {
			t.Fatalf("decodeLsRefs: %v; the oracle: ok %v", err, ok)
		}
		var nv *errNotV2
		if errors.As(err, &nv) && len(data) >= 4 {
			// Only the first line makes an answer "not version 2": that
			// line alone, then a flush, is refused too.
			if n, perr := strconv.ParseUint(string(data[:4]), 16, 16); perr == nil && n > 4 && int(n) <= len(data) {
				if _, _, ok := lsRefsOracle(append(data[:n:n], "0000"...)); ok {
					t.Fatalf("%v, but the first line is a ref line", err)
				}
			}
		}
		if err != nil {
			return
		}
		if got := hexRefs(ar.References); !maps.Equal(got, refs) {
			t.Fatalf("refs %v, the oracle %v", got, refs)
		}
		if got := hexRefs(ar.Peeled); !maps.Equal(got, peeled) {
			t.Fatalf("peeled %v, the oracle %v", got, peeled)
		}
	})
}
