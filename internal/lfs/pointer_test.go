package lfs

import (
	"errors"
	"strings"
	"testing"
)

const oidA = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393"

func TestParsePointer(t *testing.T) {
	t.Parallel()
	v1 := "version https://git-lfs.github.com/spec/v1\n"
	tests := map[string]struct {
		in   string
		want Pointer
		ok   bool
	}{
		"canonical":            {in: v1 + "oid sha256:" + oidA + "\nsize 12345\n", want: Pointer{OID: oidA, Size: 12345}, ok: true},
		"size zero":            {in: v1 + "oid sha256:" + oidA + "\nsize 0\n", want: Pointer{OID: oidA}, ok: true},
		"pre-release version":  {in: "version https://hawser.github.com/spec/v1\noid sha256:" + oidA + "\nsize 1\n", want: Pointer{OID: oidA, Size: 1}, ok: true},
		"extension":            {in: v1 + "ext-0-foo sha256:" + oidA + "\noid sha256:" + oidA + "\nsize 7\n", want: Pointer{OID: oidA, Size: 7}, ok: true},
		"no final newline":     {in: v1 + "oid sha256:" + oidA + "\nsize 12345"},
		"crlf":                 {in: strings.ReplaceAll(v1+"oid sha256:"+oidA+"\nsize 1\n", "\n", "\r\n")},
		"upper-case oid":       {in: v1 + "oid sha256:" + strings.ToUpper(oidA) + "\nsize 1\n"},
		"short oid":            {in: v1 + "oid sha256:" + oidA[:63] + "\nsize 1\n"},
		"other hash":           {in: v1 + "oid sha512:" + oidA + "\nsize 1\n"},
		"negative size":        {in: v1 + "oid sha256:" + oidA + "\nsize -1\n"},
		"leading zero":         {in: v1 + "oid sha256:" + oidA + "\nsize 01\n"},
		"size overflow":        {in: v1 + "oid sha256:" + oidA + "\nsize 99999999999999999999\n"},
		"size before oid":      {in: v1 + "size 1\noid sha256:" + oidA + "\n"},
		"duplicate oid":        {in: v1 + "oid sha256:" + oidA + "\noid sha256:" + oidA + "\nsize 1\n"},
		"missing size":         {in: v1 + "oid sha256:" + oidA + "\n"},
		"missing version":      {in: "oid sha256:" + oidA + "\nsize 1\n"},
		"unknown version":      {in: "version https://git-lfs.github.com/spec/v2\noid sha256:" + oidA + "\nsize 1\n"},
		"unknown key":          {in: v1 + "oid sha256:" + oidA + "\nsize 1\nzzz 1\n"},
		"double space":         {in: v1 + "oid  sha256:" + oidA + "\nsize 1\n"},
		"trailing blank line":  {in: v1 + "oid sha256:" + oidA + "\nsize 1\n\n"},
		"too large":            {in: v1 + "oid sha256:" + oidA + "\nsize 1\n" + strings.Repeat("x", 1024)},
		"empty":                {in: ""},
		"ordinary file":        {in: "hello, world\n"},
		"bad extension name":   {in: v1 + "ext-x-foo sha256:" + oidA + "\noid sha256:" + oidA + "\nsize 7\n"},
		"bad extension oid":    {in: v1 + "ext-0-foo sha256:zz\noid sha256:" + oidA + "\nsize 7\n"},
		"control char in size": {in: v1 + "oid sha256:" + oidA + "\nsize 1\x00\n"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := ParsePointer([]byte(tc.in))
			if tc.ok {
				if err != nil || got != tc.want {
					t.Fatalf("ParsePointer = %+v, %v; want %+v", got, err, tc.want)
				}
				return
			}
			if !errors.Is(err, ErrNotPointer) {
				t.Fatalf("ParsePointer = %+v, %v; want ErrNotPointer", got, err)
			}
		})
	}
}

func TestEncodeParses(t *testing.T) {
	t.Parallel()
	p := Pointer{OID: oidA, Size: 1 << 40}
	got, err := ParsePointer(p.Encode())
	if err != nil || got != p {
		t.Fatalf("ParsePointer(Encode()) = %+v, %v; want %+v", got, err, p)
	}
	if !MayBePointer(int64(len(p.Encode())), p.Encode()[:8]) {
		t.Error("MayBePointer refuses an encoded pointer")
	}
}

func TestMayBePointer(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		size int64
		head string
		want bool
	}{
		"pointer":        {120, "version https://git-lfs", true},
		"short head":     {120, "vers", true},
		"too big":        {1024, "version https://git-lfs", false},
		"other content":  {120, "package main", false},
		"empty head":     {0, "", true},
		"http not https": {120, "version http://git-media.io/v/2", false},
	}
	for name, tc := range tests {
		if got := MayBePointer(tc.size, []byte(tc.head)); got != tc.want {
			t.Errorf("%s: MayBePointer(%d, %q) = %v, want %v", name, tc.size, tc.head, got, tc.want)
		}
	}
}

func FuzzParsePointer(f *testing.F) {
	f.Add([]byte("version https://git-lfs.github.com/spec/v1\noid sha256:" + oidA + "\nsize 12345\n"))
	f.Add([]byte("version https://git-lfs.github.com/spec/v1\next-0-foo sha256:" + oidA + "\noid sha256:" + oidA + "\nsize 0\n"))
	f.Add([]byte("version https://hawser.github.com/spec/v1\noid sha256:" + oidA + "\nsize 01\n"))
	f.Add([]byte("hello\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePointer(b)
		if err != nil {
			if !errors.Is(err, ErrNotPointer) {
				t.Fatalf("error %v is not ErrNotPointer", err)
			}
			return
		}
		if len(b) >= MaxPointerSize || !ValidOID(p.OID) || p.Size < 0 {
			t.Fatalf("accepted %q as %+v", b, p)
		}
		if !MayBePointer(int64(len(b)), b) {
			t.Fatalf("MayBePointer refuses %q, which parses", b)
		}
		again, err := ParsePointer(p.Encode())
		if err != nil || again != p {
			t.Fatalf("Encode of %+v does not parse back: %+v, %v", p, again, err)
		}
	})
}
