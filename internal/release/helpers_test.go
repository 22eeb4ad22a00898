package release_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/gitee"
	"github.com/gitee-mirror/gitee-mirror/internal/githubapp"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/release"
)

// Tokens of the two people: alice on the GitHub side, bob on the Gitee side.
const (
	githubToken = "ghp-alice-CANARY"
	giteeToken  = "gitee-bob-CANARY"
)

// bundle is one forge with a GitHub-side repository alice/proj and a
// Gitee-side repository bob/proj.
type bundle struct {
	f      *forgetest.Forge
	github *githubapp.Client
	gitee  *gitee.Client
}

func setup(t *testing.T) *bundle {
	t.Helper()
	f := forgetest.New(t)
	f.AddUser("alice", githubToken)
	f.AddUser("bob", giteeToken)
	f.CreateRepo("alice", "proj")
	f.CreateRepo("bob", "proj")
	f.Grant("alice", "alice", "proj", forgetest.Write)
	f.Grant("bob", "bob", "proj", forgetest.Write)
	gh, err := githubapp.NewWithToken(githubToken, githubapp.Options{APIURL: f.GitHubAPIURL(), GitURL: f.BaseURL(), Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	ge, err := gitee.New(gitee.Config{BaseURL: f.GiteeAPIURL(), Token: giteeToken, Username: "bob", Retry: gitee.RetryPolicy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return &bundle{f: f, github: gh, gitee: ge}
}

// side is one end of a direction in the tests.
type side struct {
	owner    string
	releases forge.Releases
	token    string
}

func (b *bundle) side(site string) side {
	if site == "github" {
		return side{owner: "alice", releases: b.github, token: githubToken}
	}
	return side{owner: "bob", releases: b.gitee, token: giteeToken}
}

// seedTags makes one commit in owner/proj and points main and each tag at it.
func (b *bundle) seedTags(t *testing.T, owner string, tags ...string) {
	t.Helper()
	dir := b.f.RepoPath(owner, "proj")
	tree := git(t, dir, "", "hash-object", "-t", "tree", "-w", "--stdin")
	commit := git(t, dir, "", "commit-tree", tree, "-m", "release "+owner)
	git(t, dir, "", "update-ref", "refs/heads/main", commit)
	for _, tag := range tags {
		git(t, dir, "", "update-ref", "refs/tags/"+tag, commit)
	}
}

func git(t *testing.T, dir, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = []string{"GIT_CONFIG_NOSYSTEM=1", "HOME=" + t.TempDir(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_AUTHOR_DATE=2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2026-01-01T00:00:00Z"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// mirrorRefs mirrors the tags filtered by tagGlobs from src to dst and
// returns the refs' result.
func (b *bundle) mirrorRefs(t *testing.T, src, dst side, tagGlobs []string) *mirror.Result {
	t.Helper()
	res, err := mirror.Sync(context.Background(), mirror.Options{
		Source:     mirror.Endpoint{URL: b.f.GitURL(src.owner, "proj"), Username: src.owner, Token: src.token},
		Target:     mirror.Endpoint{URL: b.f.GitURL(dst.owner, "proj"), Username: dst.owner, Token: dst.token},
		Tags:       tagGlobs,
		RetryDelay: time.Millisecond,
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatalf("mirroring refs: %v", err)
	}
	return res
}

// content is size pseudo-random bytes, the same for the same seed.
func content(seed uint64, size int64) io.Reader {
	var key [32]byte
	key[0], key[1] = byte(seed), byte(seed>>8)
	return io.LimitReader(rand.NewChaCha8(key), size)
}

// syncReleases runs release.Sync from src to dst with fast retries.
func syncReleases(t *testing.T, src, dst side, tags func(string) (bool, string), limit int64, tune ...func(*release.Options)) *release.Result {
	t.Helper()
	opts := release.Options{
		Source:      release.Side{Releases: src.releases, Owner: src.owner, Name: "proj"},
		Target:      release.Side{Releases: dst.releases, Owner: dst.owner, Name: "proj"},
		TagOnTarget: tags,
		AssetLimit:  limit,
		RetryDelay:  time.Millisecond,
	}
	for _, fn := range tune {
		fn(&opts)
	}
	res, err := release.Sync(context.Background(), opts)
	if err != nil {
		t.Fatalf("release.Sync: %v", err)
	}
	return res
}

// byTag finds a release result.
func byTag(t *testing.T, res *release.Result, tag string) release.ReleaseResult {
	t.Helper()
	for _, r := range res.Releases {
		if r.Tag == tag {
			return r
		}
	}
	t.Fatalf("no result for release %s in %+v", tag, res.Releases)
	return release.ReleaseResult{}
}

func noSecrets(t *testing.T, v string) {
	t.Helper()
	for _, s := range []string{githubToken, giteeToken} {
		if bytes.Contains([]byte(v), []byte(s)) {
			t.Errorf("a token leaked into %q", v)
		}
	}
}

// asBob is a GitHub client with bob's token, so that both sides of a test
// can be GitHub.
func (b *bundle) asBob(t *testing.T) *githubapp.Client {
	t.Helper()
	gh, err := githubapp.NewWithToken(giteeToken, githubapp.Options{APIURL: b.f.GitHubAPIURL(), GitURL: b.f.BaseURL(), Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return gh
}
