package mirror

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
)

// fileState keeps the last-synced state as JSON in the cache directory.
type fileState struct{ path string }

func (f fileState) Load() (map[string]string, error) {
	b, err := os.ReadFile(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("error reading sync state: %w", err)
	}
	m, err := decodeState(b)
	if err != nil {
		return nil, fmt.Errorf("error reading sync state %s: %w", f.path, err)
	}
	return m, nil
}

func (f fileState) Save(m map[string]string) error {
	tmp := f.path + ".tmp"
	if err := os.WriteFile(tmp, encodeState(m), 0o600); err != nil {
		return fmt.Errorf("error writing sync state: %w", err)
	}
	if err := os.Rename(tmp, f.path); err != nil {
		return fmt.Errorf("error writing sync state: %w", err)
	}
	return nil
}

// The state file is read before a sync can ask for anything and written
// before it ends, and for a repository with hundreds of refs
// encoding/json's reflection took 2–3 ms each way (issue 16's profile of a
// hinted sync of nginx/nginx). encodeState writes what
// json.MarshalIndent(m, "", "  ") writes, and decodeState reads that
// shape without reflection; anything else (escapes, non-ASCII, another
// writer's layout) goes through encoding/json, so the file stays plain
// JSON either way.

// encodeState returns json.MarshalIndent(m, "", "  "), byte for byte.
func encodeState(m map[string]string) []byte {
	if len(m) == 0 {
		return []byte("{}")
	}
	keys := slices.Sorted(maps.Keys(m))
	b := make([]byte, 0, len(m)*96)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n  "...)
		b = appendJSONString(b, k)
		b = append(b, ": "...)
		b = appendJSONString(b, m[k])
	}
	return append(b, "\n}"...)
}

// appendJSONString appends s quoted as encoding/json quotes it.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if !plainJSON(s[i]) {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// plainJSON reports whether encoding/json writes c as it is inside a
// string: printable ASCII but the quote, the backslash and the three it
// escapes for HTML.
func plainJSON(c byte) bool {
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
}

// decodeState reads a state file: one JSON object of strings.
func decodeState(b []byte) (map[string]string, error) {
	if m, ok := decodePlainState(b); ok {
		return m, nil
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// decodePlainState reads an object whose keys and values are strings of
// plainJSON bytes, as encodeState writes them, and reports whether b was
// one; if not, encoding/json decides.
func decodePlainState(b []byte) (map[string]string, bool) {
	i := skipJSONSpace(b, 0)
	if i == len(b) || b[i] != '{' {
		return nil, false
	}
	m := make(map[string]string, bytes.Count(b, []byte{','})+1)
	i = skipJSONSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return m, skipJSONSpace(b, i+1) == len(b)
	}
	for {
		k, j, ok := plainJSONString(b, i)
		if !ok {
			return nil, false
		}
		i = skipJSONSpace(b, j)
		if i == len(b) || b[i] != ':' {
			return nil, false
		}
		v, j, ok := plainJSONString(b, skipJSONSpace(b, i+1))
		if !ok {
			return nil, false
		}
		m[k] = v
		i = skipJSONSpace(b, j)
		if i == len(b) {
			return nil, false
		}
		switch b[i] {
		case ',':
			i = skipJSONSpace(b, i+1)
		case '}':
			return m, skipJSONSpace(b, i+1) == len(b)
		default:
			return nil, false
		}
	}
}

// plainJSONString reads a quoted string of plainJSON bytes at b[i:] and
// returns it and the index after its closing quote.
func plainJSONString(b []byte, i int) (string, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return "", 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return string(b[i+1 : j]), j + 1, true
		case !plainJSON(c):
			return "", 0, false
		}
	}
	return "", 0, false
}

func skipJSONSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// cacheDirFor returns the directory under cacheDir for one source/target
// pair, named by a hash of the two credential-free URLs.
func cacheDirFor(cacheDir string, src, dst string) (string, error) {
	sum := sha256.Sum256([]byte(src + "\x00" + dst))
	dir := filepath.Join(cacheDir, hex.EncodeToString(sum[:8]))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("error creating cache directory: %w", err)
	}
	return dir, nil
}
