package mirror

import (
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

func TestParseID(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"0123456789abcdef0123456789abcdef01234567", true},
		{"0123456789ABCDEF0123456789abcdef01234567", true},
		{"0123456789abcdef0123456789abcdef0123456", false},   // 39
		{"0123456789abcdef0123456789abcdef012345678", false}, // 41
		{"0123456789abcdef0123456789abcdef0123456g", false},
		{"", false},
	} {
		h, ok := parseID(tt.in)
		if ok != tt.ok {
			t.Errorf("parseID(%q): ok %v, want %v", tt.in, ok, tt.ok)
		}
		if ok && h.String() != strings.ToLower(tt.in) {
			t.Errorf("parseID(%q) = %s", tt.in, h)
		}
	}
}

// FuzzParseID: parseID reads what plumbing.IsHash accepts, to what
// plumbing.NewHash makes of it, whose text is the input in lower case (what
// saveState writes back for a ref the sync did not change).
func FuzzParseID(f *testing.F) {
	f.Add("0123456789abcdef0123456789abcdef01234567")
	f.Add("0123456789ABCDEF0123456789abcdef0123456x")
	f.Fuzz(func(t *testing.T, s string) {
		h, ok := parseID(s)
		if ok != plumbing.IsHash(s) {
			t.Fatalf("parseID(%q): ok %v, IsHash %v", s, ok, !ok)
		}
		if ok && (h != plumbing.NewHash(s) || h.String() != strings.ToLower(s)) {
			t.Fatalf("parseID(%q) = %s, NewHash %s", s, h, plumbing.NewHash(s))
		}
	})
}
