package mirror_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// TestCanaryTokensNeverLeak runs successful and failing syncs with canary
// tokens and looks for them in everything the core produces: log lines,
// errors, results, and every file under the cache directory.
func TestCanaryTokensNeverLeak(t *testing.T) {
	b := setup(t)
	const srcCanary, dstCanary = "CANARY-src-7f3a9c1e", "CANARY-dst-2b8d4e6f"
	b.forge.AddUser("alice", srcCanary)
	b.forge.AddUser("bob", dstCanary)
	b.forge.AddUser("reader", "CANARY-ro-11111111")
	b.forge.Grant("reader", "ge", "proj", forgetest.Read)
	seed(t, b)
	b.forge.RejectRef("ge", "proj", "refs/heads/feature", "no")
	cache := t.TempDir()

	var seen []string
	run := func(edit func(*mirror.Options)) {
		opts := b.options()
		opts.Source.Token, opts.Target.Token = srcCanary, dstCanary
		opts.CacheDir = cache
		opts.Attempts = 2
		if edit != nil {
			edit(&opts)
		}
		res, err := mirror.Sync(t.Context(), opts)
		if err != nil {
			seen = append(seen, err.Error())
		}
		if res != nil {
			j, _ := json.Marshal(res)
			seen = append(seen, string(j))
		}
	}
	run(nil)                                                       // success, one ref rejected
	run(func(o *mirror.Options) { o.Force, o.Prune = true, true }) // no-op
	run(func(o *mirror.Options) { b.forge.DropNextPack(); b.work.Commit("x", nil); b.pushSource(t, "main") })
	run(func(o *mirror.Options) { o.Target.Token = srcCanary })                                         // wrong token
	run(func(o *mirror.Options) { o.Target.Username, o.Target.Token = "reader", "CANARY-ro-11111111" }) // no permission
	run(func(o *mirror.Options) { o.Source.URL = "http://127.0.0.1:1/gh/proj.git" })                    // unreachable
	seen = append(seen, b.logs.String())

	err := filepath.WalkDir(cache, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		seen = append(seen, string(data))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) < 8 {
		t.Fatalf("too little output to judge: %d pieces", len(seen))
	}
	for _, canary := range []string{srcCanary, dstCanary, "CANARY-ro-11111111"} {
		for _, s := range seen {
			if strings.Contains(s, canary) {
				t.Errorf("token %s leaked into: %.300s", canary, s)
			}
		}
	}
}
