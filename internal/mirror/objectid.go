package mirror

import "github.com/go-git/go-git/v5/plumbing"

// parseID reads an object id of 40 hexadecimal digits, either case, as
// plumbing.IsHash and plumbing.NewHash together would, without allocating:
// from the state file's strings and from an advertisement's bytes.
func parseID[T string | []byte](s T) (plumbing.Hash, bool) {
	var h plumbing.Hash
	if len(s) != 2*len(h) {
		return h, false
	}
	for i := range h {
		hi, ok1 := unhex(s[2*i])
		lo, ok2 := unhex(s[2*i+1])
		if !ok1 || !ok2 {
			return plumbing.Hash{}, false
		}
		h[i] = hi<<4 | lo
	}
	return h, true
}

// unhex is the value of one hexadecimal digit.
func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
