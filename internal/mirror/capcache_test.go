package mirror

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
)

func TestCapCache(t *testing.T) {
	t.Parallel()
	src, dst := &remote{side: "source"}, &remote{side: "target"}
	caps := capability.NewList()
	for _, c := range []capability.Capability{capability.Sideband64k, capability.OFSDelta} {
		if err := caps.Set(c); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	for name, tc := range map[string]struct {
		file  string        // written before loading; "" for none
		age   time.Duration // how long after put the cache is read
		put   bool
		want  bool // get finds the capabilities
		error bool // loading reports a problem
	}{
		"remembered":      {put: true, age: time.Hour, want: true},
		"too old":         {put: true, age: capMaxAge + time.Minute},
		"from the future": {put: true, age: -time.Hour},
		"never seen":      {},
		"corrupt file":    {file: "{not json", error: true},
		"huge file":       {file: string(make([]byte, capCacheLimit+1)), error: true},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "caps.json")
			if tc.file != "" {
				if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			c, err := loadCapCache(path)
			if (err != nil) != tc.error {
				t.Fatalf("load: %v, want error %v", err, tc.error)
			}
			c.now = func() time.Time { return now }
			if tc.put {
				c.put(dst, uploadPack, caps)
				if err := c.save(); err != nil {
					t.Fatal(err)
				}
			}
			c, err = loadCapCache(path)
			if err != nil && !tc.error {
				t.Fatalf("reload: %v", err)
			}
			c.now = func() time.Time { return now.Add(tc.age) }
			got := c.get(dst, uploadPack)
			if (got != nil) != tc.want {
				t.Fatalf("get = %v, want found %v", got, tc.want)
			}
			if got != nil && (!got.Supports(capability.Sideband64k) || !got.Supports(capability.OFSDelta)) {
				t.Errorf("get = %v, want %v", got, caps)
			}
			if c.get(src, uploadPack) != nil || c.get(dst, receivePack) != nil {
				t.Error("capabilities of one side's service found under another")
			}
			c.forget(dst, uploadPack)
			if c.get(dst, uploadPack) != nil {
				t.Error("forgotten capabilities still found")
			}
		})
	}
	var none *capCache // no cache directory
	none.put(dst, uploadPack, caps)
	if none.get(dst, uploadPack) != nil || none.save() != nil {
		t.Error("a nil cache remembered something")
	}
}

// An empty capability list (git's upload-pack before 2.41 advertises none
// for a repository with no refs) is not remembered, and does not replace
// what was: a sync listing with ls-refs would pair it with a server "too
// old" for a side band.
func TestCapCacheIgnoresEmptyList(t *testing.T) {
	t.Parallel()
	src := &remote{side: "source"}
	c, err := loadCapCache(filepath.Join(t.TempDir(), "caps.json"))
	if err != nil {
		t.Fatal(err)
	}
	c.put(src, uploadPack, capability.NewList())
	if got := c.get(src, uploadPack); got != nil {
		t.Fatalf("an empty list was remembered: %q", got.String())
	}
	caps := capability.NewList()
	if err := caps.Set(capability.Sideband64k); err != nil {
		t.Fatal(err)
	}
	c.put(src, uploadPack, caps)
	c.put(src, uploadPack, capability.NewList())
	if got := c.get(src, uploadPack); got == nil || !got.Supports(capability.Sideband64k) {
		t.Fatalf("an empty list replaced the remembered one: %v", got)
	}
}
