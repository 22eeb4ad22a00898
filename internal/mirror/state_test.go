package mirror

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"testing"
)

// stateCases are state maps with the names Git allows and JSON escapes.
var stateCases = map[string]map[string]string{
	"none":      {},
	"one":       {"refs/heads/main": strings.Repeat("ab", 20)},
	"several":   {"refs/heads/main": strings.Repeat("ab", 20), "refs/tags/v1.0": strings.Repeat("cd", 20), "refs/heads/a/b": strings.Repeat("01", 20)},
	"quote":     {`refs/heads/say"hi"`: strings.Repeat("ab", 20)},
	"html":      {"refs/heads/a<b>&c": strings.Repeat("ab", 20)},
	"non-ASCII": {"refs/heads/ветка": strings.Repeat("ab", 20), "refs/tags/\u2028": "x"},
	"bad UTF-8": {"refs/heads/\xff": strings.Repeat("ab", 20)},
}

// TestStateFileIsJSON: the state file is what json.MarshalIndent writes,
// byte for byte, and reads back as encoding/json reads it, whatever the
// ref names; Load also reads a file written another way.
func TestStateFileIsJSON(t *testing.T) {
	t.Parallel()
	for name, m := range stateCases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			want, err := json.MarshalIndent(m, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got := encodeState(m)
			if !bytes.Equal(got, want) {
				t.Errorf("encoded:\n%s\nwant (json.MarshalIndent):\n%s", got, want)
			}
			f := fileState{path: filepath.Join(t.TempDir(), "state.json")}
			if err := f.Save(m); err != nil {
				t.Fatal(err)
			}
			back, err := f.Load()
			if err != nil {
				t.Fatal(err)
			}
			var viaJSON map[string]string
			if err := json.Unmarshal(want, &viaJSON); err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(back, viaJSON) {
				t.Errorf("loaded %q, want %q (as encoding/json reads it)", back, viaJSON)
			}
			compact, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if again, err := decodeState(compact); err != nil || !maps.Equal(again, viaJSON) {
				t.Errorf("compact JSON read as %q, %v; want %q", again, err, viaJSON)
			}
		})
	}
	for _, bad := range []string{"", "[]", `{"a": 1}`, `{"a": "b"`, `{"a": "b"} x`, `{"a" "b"}`} {
		if m, err := decodeState([]byte(bad)); err == nil {
			t.Errorf("decodeState(%q) = %q, want an error", bad, m)
		}
	}
}

// FuzzStateDecode: whatever the state file holds, the fast reader either
// steps aside or reads exactly what encoding/json reads.
func FuzzStateDecode(f *testing.F) {
	for _, m := range stateCases {
		b, _ := json.MarshalIndent(m, "", "  ")
		f.Add(b)
		b, _ = json.Marshal(m)
		f.Add(b)
	}
	f.Add([]byte(`{"a":"b","a":"c"}`))
	f.Add([]byte(" {\t\"a\" :\r\n\"b\" } "))
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, ok := decodePlainState(data)
		var want map[string]string
		err := json.Unmarshal(data, &want)
		if !ok {
			return
		}
		if err != nil {
			t.Fatalf("read %q as %q; encoding/json refuses it: %v", data, fast, err)
		}
		if !maps.Equal(fast, want) {
			t.Fatalf("read %q as %q; encoding/json reads %q", data, fast, want)
		}
	})
}

// FuzzStateEncode: for any refs and values, the file is json.MarshalIndent's
// and reads back as encoding/json reads it.
func FuzzStateEncode(f *testing.F) {
	f.Add("refs/heads/main\x00" + strings.Repeat("ab", 20) + "\x00refs/tags/v1\x00x")
	f.Add("a\"b\x00<\\>\x00\xff\x00\u2028")
	f.Fuzz(func(t *testing.T, s string) {
		parts := strings.Split(s, "\x00")
		m := map[string]string{}
		for i := 0; i+1 < len(parts); i += 2 {
			m[parts[i]] = parts[i+1]
		}
		want, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got := encodeState(m)
		if !bytes.Equal(got, want) {
			t.Fatalf("encoded %q as %q, json.MarshalIndent as %q", m, got, want)
		}
		var viaJSON map[string]string
		if err := json.Unmarshal(got, &viaJSON); err != nil {
			t.Fatal(err)
		}
		back, err := decodeState(got)
		if err != nil || !maps.Equal(back, viaJSON) {
			t.Fatalf("read back %q, %v; encoding/json reads %q", back, err, viaJSON)
		}
	})
}

// BenchmarkStateFile encodes and decodes the state of 617 refs (nginx/nginx's
// branches and tags), as encoding/json did and as the state file does now.
func BenchmarkStateFile(b *testing.B) {
	m := map[string]string{}
	for i := range 617 {
		m[fmt.Sprintf("refs/tags/release-1.%d.%d", i/20, i%20)] = fmt.Sprintf("%040x", i*7919)
	}
	data := encodeState(m)
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			out, _ := json.MarshalIndent(m, "", "  ")
			back := map[string]string{}
			if err := json.Unmarshal(out, &back); err != nil || len(back) != len(m) {
				b.Fatal(err)
			}
		}
	})
	b.Run("state", func(b *testing.B) {
		for b.Loop() {
			out := encodeState(m)
			back, err := decodeState(out)
			if err != nil || len(back) != len(m) || len(out) != len(data) {
				b.Fatal(err)
			}
		}
	})
}
