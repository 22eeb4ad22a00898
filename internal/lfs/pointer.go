package lfs

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MaxPointerSize bounds a pointer file: git-lfs never treats a blob of this
// size or more as a pointer.
const MaxPointerSize = 1024

// specV1 is the version line every pointer written since Git LFS 1.0
// carries; specHawser is the pre-release one that git-lfs still reads.
const (
	specV1     = "https://git-lfs.github.com/spec/v1"
	specHawser = "https://hawser.github.com/spec/v1"
)

// pointerPrefix is how every pointer file begins. A blob that does not is
// no pointer, which lets a scan skip most blobs after a few bytes.
var pointerPrefix = []byte("version https://")

// Pointer names one LFS object: its sha256 (lower-case hex) and size.
type Pointer struct {
	OID  string `json:"oid"`
	Size int64  `json:"size"`
}

// ErrNotPointer is returned by ParsePointer for a blob that is not a valid
// LFS pointer file. Such a blob is ordinary file content, mirrored as it is.
var ErrNotPointer = errors.New("not a Git LFS pointer")

// MayBePointer reports whether a blob of this size starting with head could
// be a pointer: a cheap test before the blob is read in full.
func MayBePointer(size int64, head []byte) bool {
	if size >= MaxPointerSize {
		return false
	}
	n := min(len(head), len(pointerPrefix))
	return bytes.Equal(head[:n], pointerPrefix[:n])
}

// ParsePointer reads a pointer file as the spec (git-lfs docs/spec.md)
// defines it, strictly: a version line first, then keys in ascending order,
// each line "key value\n"; oid "sha256:" and 64 lower-case hex digits, size
// a non-negative decimal without leading zeros; extension lines
// ("ext-N-name") are allowed; any other key, a duplicate, a missing line
// ending or trailing data makes it not a pointer (ErrNotPointer, wrapped
// with the reason).
func ParsePointer(b []byte) (Pointer, error) {
	if len(b) >= MaxPointerSize {
		return Pointer{}, fmt.Errorf("%w: %d bytes, pointers are under %d", ErrNotPointer, len(b), MaxPointerSize)
	}
	var p Pointer
	var haveOID, haveSize bool
	prev := ""
	for i := 0; len(b) > 0; i++ {
		nl := bytes.IndexByte(b, '\n')
		if nl < 0 {
			return Pointer{}, fmt.Errorf("%w: line %d does not end with a newline", ErrNotPointer, i+1)
		}
		line := string(b[:nl])
		b = b[nl+1:]
		key, value, ok := cutKV(line)
		if !ok {
			return Pointer{}, fmt.Errorf("%w: line %d is not \"key value\"", ErrNotPointer, i+1)
		}
		if i == 0 {
			if key != "version" || (value != specV1 && value != specHawser) {
				return Pointer{}, fmt.Errorf("%w: the first line is not a known version", ErrNotPointer)
			}
			continue
		}
		if key <= prev {
			return Pointer{}, fmt.Errorf("%w: key %q out of order", ErrNotPointer, key)
		}
		prev = key
		var err error
		switch {
		case key == "oid":
			p.OID, err = parseOID(value)
			haveOID = true
		case key == "size":
			p.Size, err = parseSize(value)
			haveSize = true
		case isExtKey(key):
			if _, err = parseOID(value); err != nil {
				err = fmt.Errorf("extension %s: %w", key, err)
			}
		default:
			err = fmt.Errorf("unknown key %q", key)
		}
		if err != nil {
			return Pointer{}, fmt.Errorf("%w: %w", ErrNotPointer, err)
		}
	}
	if !haveOID || !haveSize {
		return Pointer{}, fmt.Errorf("%w: oid or size missing", ErrNotPointer)
	}
	return p, nil
}

// Encode returns the canonical pointer file for p, as git-lfs writes it.
func (p Pointer) Encode() []byte {
	return fmt.Appendf(nil, "version %s\noid sha256:%s\nsize %d\n", specV1, p.OID, p.Size)
}

// cutKV splits "key value": keys use [a-z0-9.-], one space, and a value
// without carriage returns.
func cutKV(line string) (key, value string, ok bool) {
	key, value, ok = strings.Cut(line, " ")
	if !ok || key == "" || value == "" {
		return "", "", false
	}
	for _, c := range []byte(key) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return "", "", false
		}
	}
	for _, c := range []byte(value) {
		if c == '\r' || c < 0x20 && c != '\t' {
			return "", "", false
		}
	}
	return key, value, true
}

// isExtKey matches "ext-N-name" (N one digit, name [a-z0-9]+), the
// extension lines of the spec.
func isExtKey(k string) bool {
	if len(k) < 7 || k[:4] != "ext-" || k[4] < '0' || k[4] > '9' || k[5] != '-' {
		return false
	}
	for _, c := range []byte(k[6:]) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func parseOID(v string) (string, error) {
	hex, ok := strings.CutPrefix(v, "sha256:")
	if !ok {
		return "", errors.New("oid is not sha256")
	}
	if !ValidOID(hex) {
		return "", errors.New("oid is not 64 lower-case hex digits")
	}
	return hex, nil
}

// ValidOID reports whether s is an LFS object id: 64 lower-case hex digits.
func ValidOID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func parseSize(v string) (int64, error) {
	if v == "" || (len(v) > 1 && v[0] == '0') || v[0] < '0' || v[0] > '9' {
		return 0, errors.New("size is not a decimal number")
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, errors.New("size is not a decimal number")
	}
	return n, nil
}
