package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/gitee"
	"github.com/gitee-mirror/gitee-mirror/internal/githubapp"
	"github.com/gitee-mirror/gitee-mirror/internal/release"
)

// BenchmarkReleases answers issue 14's performance section: it mirrors 20
// releases of 5 assets each (1–50 MiB, about 2.5 GiB in all) from the
// forge's GitHub API to its Gitee API with 50 ms added to every request,
// and in the same run a baseline that does what release-copy scripts do:
// for each asset, curl downloads it to a file and curl uploads the file,
// one after the other. Then a second run of ours (nothing to copy), and
// one 500 MiB asset copied by a process whose peak RSS is measured.
//
// Knobs: GM_BENCH_REL_MIB_MAX (largest asset, default 50), GM_BENCH_REL_BIG_MIB
// (the big asset, default 500), GM_BENCH_LATENCY (default 50ms).
func BenchmarkReleases(b *testing.B) {
	if _, err := exec.LookPath("curl"); err != nil {
		b.Skip("the baseline needs curl")
	}
	var err error
	if launcherPath, err = buildLauncher(b.TempDir()); err != nil {
		b.Fatal(err)
	}
	maxMiB := envInt("GM_BENCH_REL_MIB_MAX", 50)
	bigMiB := envInt("GM_BENCH_REL_BIG_MIB", 500)
	latency := 50 * time.Millisecond
	if v := os.Getenv("GM_BENCH_LATENCY"); v != "" {
		if latency, err = time.ParseDuration(v); err != nil {
			b.Fatal(err)
		}
	}
	f := forgetest.New(b, forgetest.LowPriorityGit())
	f.AddUser("alice", relBenchGitHub)
	f.AddUser("bob", relBenchGitee)
	for _, r := range []struct{ owner, name string }{{"alice", "proj"}, {"bob", "ours"}, {"bob", "base"}, {"alice", "big"}, {"bob", "big"}} {
		f.CreateRepo(r.owner, r.name)
		f.Grant(r.owner, r.owner, r.name, forgetest.Write)
	}
	f.SetGiteeAssetLimit(int64(bigMiB+1) << 20)

	start := time.Now()
	var tags []string
	var total int64
	rng := rand.New(rand.NewPCG(14, 14))
	for i := 1; i <= 20; i++ {
		tags = append(tags, fmt.Sprintf("v%d.0", i))
	}
	for _, repo := range []string{"alice/proj", "bob/ours", "bob/base"} {
		owner, name, _ := strings.Cut(repo, "/")
		relSeedTags(b, f, owner, name, tags...)
	}
	for i, tag := range tags {
		f.AddRelease("alice", "proj", forgetest.ReleaseSpec{Tag: tag, Name: "Release " + tag, Body: "Notes of " + tag + "\n\n- one\n- two", Prerelease: i%5 == 4})
		for k := range 5 {
			size := int64(1+rng.IntN(maxMiB)) << 20
			total += size
			f.AddReleaseAsset("alice", "proj", tag, fmt.Sprintf("asset-%d.bin", k), relContent(uint64(i*5+k), size))
		}
	}
	relSeedTags(b, f, "alice", "big", "v1")
	relSeedTags(b, f, "bob", "big", "v1")
	f.AddRelease("alice", "big", forgetest.ReleaseSpec{Tag: "v1", Name: "big"})
	f.AddReleaseAsset("alice", "big", "v1", "big.iso", relContent(999, int64(bigMiB)<<20))
	fmt.Printf("releases: 20 releases × 5 assets, %.0f MiB in all, largest %d MiB; big asset %d MiB; latency %s; generated in %.1fs\n",
		float64(total)/(1<<20), maxMiB, bigMiB, latency, time.Since(start).Seconds())
	f.SetLatency(latency)

	b.ResetTimer()
	for range b.N {
		first, rep1, err := relHelperRun(f, "alice", "proj", "bob", "ours", 0)
		if err != nil {
			b.Fatal(err)
		}
		second, rep2, err := relHelperRun(f, "alice", "proj", "bob", "ours", 0)
		if err != nil {
			b.Fatal(err)
		}
		base, err := curlBaseline(f, "alice", "proj", "bob", "base")
		if err != nil {
			b.Fatal(err)
		}
		big, rep3, err := relHelperRun(f, "alice", "big", "bob", "big", -1)
		if err != nil {
			b.Fatal(err)
		}
		for _, repo := range []string{"ours", "base"} {
			if err := sameReleases(f.Releases("alice", "proj"), f.Releases("bob", repo)); err != nil {
				b.Fatalf("bob/%s: %v", repo, err)
			}
		}
		if err := sameReleases(f.Releases("alice", "big"), f.Releases("bob", "big")); err != nil {
			b.Fatalf("bob/big: %v", err)
		}
		fmt.Printf("%-34s %8s %10s %12s\n", "scenario", "wall", "maxrss", "uploaded")
		fmt.Printf("%-34s %7.1fs %7d MiB %5d assets\n", "ours, first run (4 in parallel)", first.Wall.Seconds(), first.MaxRSS>>10, rep1.Uploaded)
		fmt.Printf("%-34s %7.1fs %7d MiB %5d assets\n", "ours, second run", second.Wall.Seconds(), second.MaxRSS>>10, rep2.Uploaded)
		fmt.Printf("%-34s %7.1fs %10s %5d assets\n", "baseline: curl down + curl up", base.Seconds(), "-", 100)
		fmt.Printf("%-34s %7.1fs %7d MiB %5d assets (tree peak %d MiB)\n", fmt.Sprintf("ours, one %d MiB asset", bigMiB), big.Wall.Seconds(), big.MaxRSS>>10, rep3.Uploaded, big.TreeRSS>>10)
		fmt.Printf("first run / baseline = %.2f×; second run / first run = %.1f%%\n",
			first.Wall.Seconds()/base.Seconds(), 100*second.Wall.Seconds()/first.Wall.Seconds())
		b.ReportMetric(first.Wall.Seconds()/base.Seconds(), "first/baseline")
		b.ReportMetric(100*second.Wall.Seconds()/first.Wall.Seconds(), "second/first-%")
		b.ReportMetric(float64(big.MaxRSS>>10), "big-maxrss-MiB")
	}
}

const (
	relBenchGitHub = "ghp-bench-releases"
	relBenchGitee  = "gitee-bench-releases"
	envRelGitHub   = "GM_BENCH_REL_GITHUB"
	envRelGitee    = "GM_BENCH_REL_GITEE"
	envRelRepos    = "GM_BENCH_REL_REPOS" // "srcOwner/srcName dstOwner/dstName"
	envRelLimit    = "GM_BENCH_REL_LIMIT"
	relPrefix      = "GM-BENCH-RELEASES-RESULT "
)

// relReport is what the releases helper prints.
type relReport struct {
	OK       bool   `json:"ok"`
	Uploaded int    `json:"uploaded"`
	Bytes    int64  `json:"bytes"`
	Error    string `json:"error,omitempty"`
}

// TestReleasesHelperProcess is not a test: BenchmarkReleases re-executes
// the test binary to run one release.Sync in a process of its own, whose
// time and memory are measured.
func TestReleasesHelperProcess(t *testing.T) {
	if os.Getenv(envHelper) != "releases" {
		t.Skip("helper process for BenchmarkReleases")
	}
	rep := relReport{}
	res, err := relHelper()
	if res != nil {
		rep = relReport{OK: res.OK(), Uploaded: res.Uploaded, Bytes: res.Bytes}
		for _, r := range res.Releases {
			for _, a := range r.Assets {
				if !a.OK() {
					fmt.Fprintf(os.Stderr, "%s %s: %s\n", r.Tag, a.Name, a.Message)
				}
			}
		}
	}
	if err != nil {
		rep.Error = err.Error()
	}
	out, _ := json.Marshal(rep)
	fmt.Printf("\n%s%s\n", relPrefix, out)
}

func relHelper() (*release.Result, error) {
	gh, err := githubapp.NewWithToken(relBenchGitHub, githubapp.Options{APIURL: os.Getenv(envRelGitHub) + "/api/v3/", GitURL: os.Getenv(envRelGitHub)})
	if err != nil {
		return nil, err
	}
	ge, err := gitee.New(gitee.Config{BaseURL: os.Getenv(envRelGitee) + "/api/v5", Token: relBenchGitee, Username: "bob"})
	if err != nil {
		return nil, err
	}
	var so, sn, do, dn string
	fmt.Sscanf(strings.ReplaceAll(os.Getenv(envRelRepos), "/", " "), "%s %s %s %s", &so, &sn, &do, &dn)
	limit, _ := strconv.ParseInt(os.Getenv(envRelLimit), 10, 64)
	return release.Sync(context.Background(), release.Options{
		Source:     release.Side{Releases: gh, Owner: so, Name: sn},
		Target:     release.Side{Releases: ge, Owner: do, Name: dn},
		AssetLimit: limit,
		RetryDelay: 100 * time.Millisecond,
		Logger:     slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
}

// relHelperRun runs the helper under the launcher.
func relHelperRun(f *forgetest.Forge, so, sn, do, dn string, limit int64) (usage, relReport, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestReleasesHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), envHelper+"=releases", envRelGitHub+"="+f.BaseURL(), envRelGitee+"="+f.BaseURL(),
		envRelRepos+"="+so+"/"+sn+" "+do+"/"+dn, envRelLimit+"="+strconv.FormatInt(limit, 10))
	u, out, err := measure(cmd)
	var rep relReport
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if s, ok := strings.CutPrefix(sc.Text(), relPrefix); ok {
			if jerr := json.Unmarshal([]byte(s), &rep); jerr != nil {
				return u, rep, jerr
			}
		}
	}
	switch {
	case err != nil:
		return u, rep, err
	case rep.Error != "":
		return u, rep, fmt.Errorf("release.Sync: %s", rep.Error)
	case !rep.OK:
		return u, rep, fmt.Errorf("release.Sync: some releases or assets failed")
	}
	return u, rep, nil
}

// curlBaseline copies the releases the way scripts do: list the source's
// releases, then per release create it on Gitee, and per asset download it
// with curl to a file and upload that file with curl, one at a time.
func curlBaseline(f *forgetest.Forge, so, sn, do, dn string) (time.Duration, error) {
	dir, err := os.MkdirTemp("", "curl-baseline-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	ghAPI, geAPI := f.BaseURL()+"/api/v3", f.BaseURL()+"/api/v5"
	curl := func(args ...string) ([]byte, error) {
		out, err := exec.Command("curl", append([]string{"-sS", "-f"}, args...)...).Output()
		if err != nil {
			return nil, fmt.Errorf("curl %s: %w", args[len(args)-1], err)
		}
		return out, nil
	}
	start := time.Now()
	list, err := curl("-H", "Authorization: token "+relBenchGitHub, ghAPI+"/repos/"+so+"/"+sn+"/releases?per_page=100")
	if err != nil {
		return 0, err
	}
	var rels []struct {
		Tag    string `json:"tag_name"`
		Title  string `json:"name"`
		Notes  string `json:"body"`
		Draft  bool   `json:"draft"`
		Assets []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"assets"`
	}
	if err := json.Unmarshal(list, &rels); err != nil {
		return 0, err
	}
	for i := len(rels) - 1; i >= 0; i-- {
		r := rels[i]
		if r.Draft {
			continue
		}
		made, err := curl("-X", "POST", "--data-urlencode", "access_token="+relBenchGitee, "--data-urlencode", "tag_name="+r.Tag,
			"--data-urlencode", "name="+r.Title, "--data-urlencode", "body="+r.Notes, "--data-urlencode", "target_commitish="+r.Tag,
			geAPI+"/repos/"+do+"/"+dn+"/releases")
		if err != nil {
			return 0, err
		}
		var created struct {
			ID int64 `json:"id"`
		}
		if err := json.Unmarshal(made, &created); err != nil {
			return 0, err
		}
		for _, a := range r.Assets {
			file := filepath.Join(dir, a.Name)
			if _, err := curl("-L", "-H", "Authorization: token "+relBenchGitHub, "-H", "Accept: application/octet-stream", "-o", file,
				ghAPI+"/repos/"+so+"/"+sn+"/releases/assets/"+strconv.FormatInt(a.ID, 10)); err != nil {
				return 0, err
			}
			if _, err := curl("-F", "access_token="+relBenchGitee, "-F", "file=@"+file,
				geAPI+"/repos/"+do+"/"+dn+"/releases/"+strconv.FormatInt(created.ID, 10)+"/attach_files"); err != nil {
				return 0, err
			}
			os.Remove(file)
		}
	}
	return time.Since(start), nil
}

// sameReleases checks that every published release of src is on dst with
// its assets' bytes.
func sameReleases(src, dst []forgetest.ReleaseInfo) error {
	have := map[string]string{}
	for _, r := range dst {
		for _, a := range r.Assets {
			have[r.Tag+"/"+a.Name] = a.SHA256
		}
	}
	for _, r := range src {
		if r.Draft {
			continue
		}
		for _, a := range r.Assets {
			if have[r.Tag+"/"+a.Name] != a.SHA256 {
				return fmt.Errorf("%s/%s missing or different", r.Tag, a.Name)
			}
		}
	}
	return nil
}

// relSeedTags makes one commit in owner/name and points main and each tag
// at it.
func relSeedTags(b *testing.B, f *forgetest.Forge, owner, name string, tags ...string) {
	b.Helper()
	dir := f.RepoPath(owner, name)
	run := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir, cmd.Stdin = dir, strings.NewReader("")
		cmd.Env = []string{"GIT_CONFIG_NOSYSTEM=1", "HOME=" + dir, "GIT_AUTHOR_NAME=b", "GIT_AUTHOR_EMAIL=b@example.com",
			"GIT_COMMITTER_NAME=b", "GIT_COMMITTER_EMAIL=b@example.com", "GIT_AUTHOR_DATE=2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2026-01-01T00:00:00Z"}
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("git %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	commit := run("commit-tree", run("hash-object", "-t", "tree", "-w", "--stdin"), "-m", "release")
	run("update-ref", "refs/heads/main", commit)
	for _, tag := range tags {
		run("update-ref", "refs/tags/"+tag, commit)
	}
}

// relContent is size pseudo-random bytes, the same for the same seed.
func relContent(seed uint64, size int64) io.Reader {
	var key [32]byte
	key[0], key[1] = byte(seed), byte(seed>>8)
	return io.LimitReader(rand.NewChaCha8(key), size)
}
