package bench

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
)

// minRealObjects is the least a real repository given in GM_BENCH_REAL_REPO
// must have (its branches and tags) for its figures to mean anything.
const minRealObjects = 50_000

// realSource copies the branches and tags of the Git repository at dir
// (GM_BENCH_REAL_REPO: a bare repository or a work tree's .git, e.g. a
// mirror of nginx/nginx) into a forge repository, packs it as a forge would
// (one pack, deltas kept, bitmaps), and returns the scenarios' runner for
// it. Its "one new commit" adds a small file to the default branch (main,
// else master, else the first branch).
func realSource(b *testing.B, f *forgetest.Forge, env []string, home, dir string) *mirrorRun {
	b.Helper()
	out := os.Stdout
	abs, err := filepath.Abs(dir)
	if err != nil {
		b.Fatalf("GM_BENCH_REAL_REPO: %v", err)
	}
	start := time.Now()
	path := f.CreateRepo(srcOwner, "real")
	if _, err := runGit(env, path, "fetch", "--quiet", "--no-tags", abs, "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"); err != nil {
		b.Fatalf("GM_BENCH_REAL_REPO=%s: copying its branches and tags: %v", dir, err)
	}
	if _, err := runGit(env, path, "repack", "-a", "-d", "-b", "-q"); err != nil {
		b.Fatal(err)
	}
	// Its refs stay loose (as a repository that was pushed to and not
	// yet gc'd has them) unless GM_BENCH_REAL_PACK_REFS=1 packs them (as
	// git gc leaves them): every listing and receive-pack reads them all.
	refsPacked := os.Getenv("GM_BENCH_REAL_PACK_REFS") == "1"
	if refsPacked {
		if _, err := runGit(env, path, "pack-refs", "--all"); err != nil {
			b.Fatal(err)
		}
	}
	objects, packKiB := countObjects(b, env, path)
	refs := headsAndTags(f.Refs(srcOwner, "real"))
	var heads []string
	for ref := range refs {
		if h, ok := strings.CutPrefix(ref, "refs/heads/"); ok {
			heads = append(heads, h)
		}
	}
	slices.Sort(heads)
	if len(heads) == 0 {
		b.Fatalf("GM_BENCH_REAL_REPO=%s has no branches", dir)
	}
	branch := heads[0]
	for _, h := range []string{"master", "main"} {
		if slices.Contains(heads, h) {
			branch = h
		}
	}
	fmt.Fprintf(out, "real source %s: %d objects, %d branches and tags (packed refs: %v), pack %.1f MiB; copied and packed in %s; new commits go to %s\n",
		abs, objects, len(refs), refsPacked, float64(packKiB)/1024, time.Since(start).Round(100*time.Millisecond), branch)
	if objects < minRealObjects {
		b.Fatalf("GM_BENCH_REAL_REPO=%s: %d objects in its branches and tags, want at least %d", dir, objects, minRealObjects)
	}
	n := 0
	return &mirrorRun{b: b, f: f, home: home, src: "real", newCommit: func() error {
		n++
		return fastImport(path, env, func(w io.Writer) error {
			body := fmt.Sprintf("benchmark commit %d\n", n)
			_, err := fmt.Fprintf(w, "commit refs/heads/%s\ncommitter Bench <bench@example.com> %d +0000\ndata %d\n%s\nfrom refs/heads/%s^0\nM 100644 inline GITEE_MIRROR_BENCH.txt\ndata %d\n%s\n",
				branch, time.Now().Unix(), len(body), body, branch, len(body), body)
			return err
		})
	}}
}
