package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/logtest"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

func TestDefaultRunner_PushCreatesGiteeRepo(t *testing.T) {
	t.Parallel()
	b := setupRunner(t)
	ctx := context.Background()
	mainSHA := b.push(t, "main", map[string]string{"README": "hello"})
	devSHA := b.push(t, "dev", map[string]string{"dev.txt": "wip"})
	m := b.mirror(t, "widget", store.AToB)

	res, err := b.runner.Sync(ctx, m)
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if got := len(res.Changed()); got != 2 {
		t.Errorf("changed refs = %d, want 2: %+v", got, res.Refs)
	}
	want := map[string]string{"refs/heads/main": mainSHA, "refs/heads/dev": devSHA}
	for ref, sha := range want {
		if got := b.f.Refs(giteeOrg, "widget")[ref]; got != sha {
			t.Errorf("Gitee %s = %q, want %q", ref, got, sha)
		}
	}
	meta, ok := b.f.RepoMeta(giteeOrg, "widget")
	if !ok {
		t.Fatal("Gitee repository acme/widget was not created")
	}
	if !meta.Private || meta.Description != "Widgets for all" || meta.DefaultBranch != "main" {
		t.Errorf("Gitee repository = %+v, want private (as on GitHub), GitHub's description, default branch main", meta)
	}
	mints := b.tokensWith("contents", "write")
	if len(mints) != 1 {
		t.Fatalf("push tokens minted = %d, want 1", len(mints))
	}
	if checks := b.tokensWith("checks", "write"); len(checks) != 1 || checks[0].Permissions["contents"] != "" {
		t.Errorf("check run tokens = %+v, want one with checks write alone", checks)
	}
	if got := mints[0].Repositories; len(got) != 1 || got[0] != ghOwner+"/"+ghName {
		t.Errorf("token scoped to %v, want only %s/%s", got, ghOwner, ghName)
	}
	if life := time.Until(mints[0].ExpiresAt); life < minTokenLife {
		t.Errorf("token minted with %s to live, want at least %s", life, minTokenLife)
	}
	state, err := b.st.RefState(ctx, m.ID)
	if err != nil || state["refs/heads/main"] != mainSHA {
		t.Errorf("ref state = %v, %v; want main at %s", state, err, mainSHA)
	}

	checks := b.f.CheckRuns(ghOwner, ghName)
	if len(checks) != 2 {
		t.Fatalf("check runs = %d, want one per pushed commit (2)", len(checks))
	}
	for _, c := range checks {
		if c.Name != forge.CheckRunName || c.Conclusion != forge.ConclusionSuccess || c.Status != "completed" {
			t.Errorf("check run = %+v, want a successful %q", c, forge.CheckRunName)
		}
		if c.HeadSHA != mainSHA && c.HeadSHA != devSHA {
			t.Errorf("check run on %v, want a pushed commit", c.HeadSHA)
		}
		if !strings.HasPrefix(c.DetailsURL, "https://app.example/mirrors/") || c.AppID != appID {
			t.Errorf("check run details_url = %q, app = %d", c.DetailsURL, c.AppID)
		}
	}

	// Idempotent: nothing to do the second time, and no check runs.
	res, err = b.runner.Sync(ctx, m)
	if err != nil || !res.NoOp {
		t.Errorf("second Sync = %+v, %v; want a no-op", res, err)
	}
	if n := len(b.f.CheckRuns(ghOwner, ghName)); n != 2 {
		t.Errorf("check runs after a no-op = %d, want still 2", n)
	}
	if n := b.f.APIStats().Endpoints["gitee GET /user"]; n != 1 {
		t.Errorf("Gitee GET /user called %d times, want once (the login is cached per token)", n)
	}
}

func TestDefaultRunner_DivergedIsNeutral(t *testing.T) {
	t.Parallel()
	b := setupRunner(t)
	ctx := context.Background()
	b.push(t, "main", map[string]string{"README": "hello"})
	m := b.mirror(t, "widget", store.AToB)
	if _, err := b.runner.Sync(ctx, m); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	// Someone commits on Gitee; then a push to GitHub diverges from it.
	other := forgetest.NewWork(t)
	if err := other.Fetch(b.f.GitURL(giteeOrg, "widget"), giteeLogin, giteeToken, "refs/heads/main:refs/remotes/gitee/main"); err != nil {
		t.Fatal(err)
	}
	other.Checkout("refs/remotes/gitee/main")
	other.Commit("on gitee", map[string]string{"gitee.txt": "x"})
	if err := other.Push(b.f.GitURL(giteeOrg, "widget"), giteeLogin, giteeToken, "HEAD:refs/heads/main"); err != nil {
		t.Fatal(err)
	}
	sha := b.push(t, "main", map[string]string{"README": "hello again"})

	res, err := b.runner.Sync(ctx, m)
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if v := judge(res, err); v.outcome != store.OutcomeDiverged || !strings.Contains(v.message, "refs/heads/main") {
		t.Errorf("verdict = %+v, want diverged naming refs/heads/main", v)
	}
	checks := b.f.CheckRuns(ghOwner, ghName)
	last := checks[len(checks)-1]
	if last.HeadSHA != sha || last.Conclusion != forge.ConclusionNeutral {
		t.Errorf("check run = %+v, want neutral on %s", last, sha)
	}
	if !strings.Contains(last.Summary, "Diverged on Gitee") || !strings.Contains(last.Summary, "`refs/heads/main`") {
		t.Errorf("summary = %q, want the diverged ref listed", last.Summary)
	}
}

func TestDefaultRunner_Pull(t *testing.T) {
	t.Parallel()
	b := setupRunner(t)
	ctx := context.Background()
	sha := b.giteeUpstream(t, map[string]string{"a": "b"})
	m := b.mirror(t, "upstream", store.BToA)
	if _, err := b.runner.Sync(ctx, m); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if got := b.f.Refs(ghOwner, ghName)["refs/heads/main"]; got != sha {
		t.Errorf("GitHub main = %q, want %q", got, sha)
	}
	if n := len(b.f.CheckRuns(ghOwner, ghName)); n != 0 {
		t.Errorf("pull sync created %d check runs, want none", n)
	}
}

func TestDefaultRunner_WorkflowsPermission(t *testing.T) {
	t.Parallel()
	b := setupRunner(t)
	ctx := context.Background()
	b.giteeUpstream(t, map[string]string{".github/workflows/ci.yml": "on: push"})
	// The installation has the default permissions: no workflows.
	m := b.mirror(t, "upstream", store.BToA)
	res, err := b.runner.Sync(ctx, m)
	v := judge(res, err)
	if v.outcome != store.OutcomeFailed || v.class != failure.Permission || !strings.Contains(v.message, "`workflows` permission") {
		t.Errorf("verdict = %+v (err %v), want a failed run saying the workflows permission is missing", v, err)
	}
}

func TestDefaultRunner_NoGiteeToken(t *testing.T) {
	t.Parallel()
	b := setupRunner(t)
	ctx := context.Background()
	if err := b.st.DeleteCredential(ctx, installationID, 0); err != nil {
		t.Fatal(err)
	}
	m := b.mirror(t, "widget", store.AToB)
	_, err := b.runner.Sync(ctx, m)
	if failure.ClassOf(err) != failure.Auth || !strings.Contains(err.Error(), "no Gitee token connected for this installation: "+DefaultTokenHint) {
		t.Errorf("Sync error = %v, want auth naming the missing token and how to set one", err)
	}
	if failure.IsTransient(err) {
		t.Error("a missing token must not be retried")
	}
}

func TestDefaultRunner_NoSecretsInErrorsOrLogs(t *testing.T) {
	t.Parallel()
	b := setupRunner(t)
	var logs syncBuffer
	b.runner.log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b.push(t, "main", map[string]string{"README": "hello"})
	m := b.mirror(t, "widget", store.AToB)
	if _, err := b.runner.Sync(context.Background(), m); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	b.push(t, "main", map[string]string{"README": "again"})
	b.f.RevokeToken(giteeToken)
	_, err := b.runner.Sync(context.Background(), m)
	if err == nil {
		t.Fatal("Sync with a revoked Gitee token succeeded")
	}
	secrets := []string{giteeToken}
	for _, tok := range b.f.MintedTokens() {
		secrets = append(secrets, tok.Token)
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error leaks a token: %v", err)
		}
		if strings.Contains(logs.String(), s) {
			t.Errorf("logs leak a token")
		}
	}
	for _, c := range b.f.CheckRuns(ghOwner, ghName) {
		for _, s := range secrets {
			if strings.Contains(c.Summary+c.Title, s) {
				t.Errorf("check run leaks a token: %+v", c)
			}
		}
	}
}

// syncBuffer is the shared concurrent-safe log sink.
type syncBuffer = logtest.Buffer

func TestRepoTokenLife(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		lives   []time.Duration
		wantErr bool
		mints   int
	}{
		{"fresh", []time.Duration{time.Hour}, false, 1},
		{"short, then fresh", []time.Duration{5 * time.Minute, time.Hour}, false, 2},
		{"exactly ten minutes", []time.Duration{10 * time.Minute}, false, 1},
		{"always short", []time.Duration{time.Minute, time.Minute}, true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := &DefaultRunner{now: func() time.Time { return now }}
			n := 0
			r.mint = func(context.Context, *store.Mirror, forge.TokenScope) (string, time.Time, error) {
				life := tt.lives[n]
				n++
				return "tok", now.Add(life), nil
			}
			tok, cached, err := r.repoToken(context.Background(), &store.Mirror{A: store.Side{Owner: "o", Name: "r"}}, forge.ScopePush)
			if (err != nil) != tt.wantErr || (err == nil && tok != "tok") || cached {
				t.Errorf("repoToken = %q, %v; want error %v", tok, err, tt.wantErr)
			}
			if n != tt.mints {
				t.Errorf("minted %d tokens, want %d", n, tt.mints)
			}
		})
	}
	t.Run("mint error", func(t *testing.T) {
		r := &DefaultRunner{now: time.Now}
		want := failure.New(failure.NotFound, "installation gone")
		r.mint = func(context.Context, *store.Mirror, forge.TokenScope) (string, time.Time, error) {
			return "", time.Time{}, want
		}
		if _, _, err := r.repoToken(context.Background(), &store.Mirror{}, forge.ScopePush); !errors.Is(err, want) {
			t.Errorf("repoToken error = %v, want %v", err, want)
		}
	})
}

// A minted token is used again while it has minTokenLife left, per
// repository, until it is forgotten.
func TestRepoTokenReuse(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	r := &DefaultRunner{now: func() time.Time { return now }}
	mints := 0
	r.mint = func(_ context.Context, m *store.Mirror, _ forge.TokenScope) (string, time.Time, error) {
		mints++
		return fmt.Sprintf("tok-%d-%d", m.GitHubRepoID, mints), now.Add(time.Hour), nil
	}
	a := &store.Mirror{InstallationID: 1, GitHubRepoID: 10, A: store.Side{Owner: "o", Name: "a"}}
	b := &store.Mirror{InstallationID: 1, GitHubRepoID: 11, A: store.Side{Owner: "o", Name: "b"}}
	other := &store.Mirror{InstallationID: 2, GitHubRepoID: 10, A: store.Side{Owner: "o", Name: "a"}}
	steps := []struct {
		name    string
		m       *store.Mirror
		advance time.Duration
		forget  bool
		want    string
		cached  bool
	}{
		{"first", a, 0, false, "tok-10-1", false},
		{"again", a, 0, false, "tok-10-1", true},
		{"other repository", b, 0, false, "tok-11-2", false},
		{"other installation", other, 0, false, "tok-10-3", false},
		{"49 minutes on", a, 49 * time.Minute, false, "tok-10-1", true},
		{"less than ten minutes left", a, 2 * time.Minute, false, "tok-10-4", false},
		{"kept again", a, 0, false, "tok-10-4", true},
		{"forgotten", a, 0, true, "tok-10-5", false},
	}
	for _, st := range steps {
		now = now.Add(st.advance)
		if st.forget {
			r.forgetToken(st.m)
		}
		tok, cached, err := r.repoToken(context.Background(), st.m, forge.ScopePush)
		if err != nil || tok != st.want || cached != st.cached {
			t.Errorf("%s: repoToken = %q, cached %v, %v; want %q, cached %v", st.name, tok, cached, err, st.want, st.cached)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, tok := range r.tokens {
		if tok.expires.Sub(now) < minTokenLife {
			t.Errorf("expired token of %+v still kept", k)
		}
	}
}

func TestGiteeVisibility(t *testing.T) {
	t.Parallel()
	tests := []struct {
		setting string
		private bool
		want    forge.Visibility
	}{
		{"source", true, forge.Private},
		{"source", false, forge.Public},
		{"", true, forge.Private},
		{"private", false, forge.Private},
		{"public", true, forge.Public},
	}
	for _, tt := range tests {
		if got, err := targetVisibility(tt.setting, tt.private); err != nil || got != tt.want {
			t.Errorf("targetVisibility(%q, private=%v) = %q, %v; want %q", tt.setting, tt.private, got, err, tt.want)
		}
	}
	if _, err := targetVisibility("internal", false); failure.ClassOf(err) != failure.Invalid {
		t.Errorf("unknown visibility error = %v, want invalid", err)
	}
}

func TestCheckRun(t *testing.T) {
	t.Parallel()
	m := &store.Mirror{ID: 3, A: store.Side{Owner: "o", Name: "r"}, B: store.Side{Owner: "g", Name: "r"}}
	ok := mirror.RefResult{Ref: "refs/heads/main", Outcome: mirror.Updated, Source: "aaa"}
	div := mirror.RefResult{Ref: "refs/heads/dev", Outcome: mirror.Diverged, Source: "bbb", Target: "ccc"}
	bad := mirror.RefResult{Ref: "refs/heads/ci", Outcome: mirror.Rejected, Class: failure.Permission, Source: "ddd",
		Message: "GitHub refused to update a workflow file: the token lacks the `workflows` permission | really"}
	all := &mirror.Result{Refs: []mirror.RefResult{ok, div, bad}}
	tests := []struct {
		name       string
		refs       []mirror.RefResult
		err        error
		conclusion string
		title      string
		summary    []string
	}{
		{"success", []mirror.RefResult{ok}, nil, forge.ConclusionSuccess, "Mirrored to Gitee g/r", []string{"| `refs/heads/main` | updated |", "`refs/heads/dev`: GitHub `bbb`, Gitee `ccc`"}},
		{"diverged", []mirror.RefResult{div}, nil, forge.ConclusionNeutral, "Diverged on Gitee g/r: not overwritten", []string{"Diverged on Gitee"}},
		{"rejected", []mirror.RefResult{bad}, nil, forge.ConclusionFailure, "Not mirrored to Gitee g/r: permission", []string{"`workflows` permission \\| really"}},
		{"sync error", []mirror.RefResult{ok}, failure.New(failure.Network, "connection dropped"), forge.ConclusionFailure, "Not mirrored to Gitee g/r: network", []string{"**The sync failed** (network)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cr := checkRun(m, gitURLs{}, tt.refs, all, tt.err)
			if cr.Conclusion != tt.conclusion || cr.Title != tt.title || cr.ExternalID != "3" {
				t.Errorf("check run = %q %q %q, want %q %q", cr.Conclusion, cr.Title, cr.ExternalID, tt.conclusion, tt.title)
			}
			for _, s := range tt.summary {
				if !strings.Contains(cr.Summary, s) {
					t.Errorf("summary %q lacks %q", cr.Summary, s)
				}
			}
		})
	}
}

// TestCheckRunTwoWay: a conflict is neutral and shows both commits with the
// commands that resolve it; a commit a two-way sync brought to GitHub gets
// its check run on that commit.
func TestCheckRunTwoWay(t *testing.T) {
	t.Parallel()
	m := &store.Mirror{ID: 4, A: store.Side{Owner: "o", Name: "r"}, B: store.Side{Owner: "g", Name: "r"}, Direction: store.Both}
	urls := gitURLs{a: "https://github.example/o/r.git", b: "https://gitee.example/g/r.git"}
	toB := mirror.RefResult{Ref: "refs/heads/main", Outcome: mirror.Updated, Source: "aaa", Target: "bbb", Side: mirror.SideTarget}
	toA := mirror.RefResult{Ref: "refs/heads/dev", Outcome: mirror.Updated, Source: "ccc", Target: "ddd", Side: mirror.SideSource}
	conflict := mirror.RefResult{Ref: "refs/heads/topic", Outcome: mirror.Conflict, Source: "eee", Target: "fff"}
	all := &mirror.Result{Refs: []mirror.RefResult{toB, toA, conflict}}
	tests := []struct {
		name       string
		ref        mirror.RefResult
		sha        string
		conclusion string
		title      string
		summary    []string
	}{
		{"to Gitee", toB, "aaa", forge.ConclusionSuccess, "In sync with Gitee g/r", []string{"GitHub **o/r** ↔ Gitee **g/r**", "| `refs/heads/main` | updated | to Gitee |"}},
		{"from Gitee", toA, "ddd", forge.ConclusionSuccess, "In sync with Gitee g/r", []string{"| `refs/heads/dev` | updated | from Gitee |"}},
		{"conflict", conflict, "eee", forge.ConclusionNeutral, "Conflict with Gitee g/r: changed on both sides, nothing overwritten", []string{
			"`refs/heads/topic`: GitHub `eee`, Gitee `fff`",
			"keep GitHub's: `git fetch https://github.example/o/r.git refs/heads/topic && git push --force https://gitee.example/g/r.git FETCH_HEAD:refs/heads/topic`",
			"keep Gitee's: `git fetch https://gitee.example/g/r.git refs/heads/topic && git push --force https://github.example/o/r.git FETCH_HEAD:refs/heads/topic`",
			"merge the two commits",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !checkRef(tt.ref) || checkSHA(tt.ref) != tt.sha {
				t.Errorf("checkRef = %v, checkSHA = %q; want a check run on %q", checkRef(tt.ref), checkSHA(tt.ref), tt.sha)
			}
			cr := checkRun(m, urls, []mirror.RefResult{tt.ref}, all, nil)
			if cr.Conclusion != tt.conclusion || cr.Title != tt.title {
				t.Errorf("check run = %q %q, want %q %q", cr.Conclusion, cr.Title, tt.conclusion, tt.title)
			}
			for _, s := range tt.summary {
				if !strings.Contains(cr.Summary, s) {
					t.Errorf("summary %q lacks %q", cr.Summary, s)
				}
			}
		})
	}
	if v := judge(all, nil); v.outcome != store.OutcomeDiverged || !strings.Contains(v.message, "refs/heads/topic") || !strings.Contains(v.message, "conflict") {
		t.Errorf("verdict = %+v, want diverged naming the conflict", v)
	}
}

// Syncs of a mirror that reached Gitee reuse the repository's token and do
// not ask Gitee for the repository again; a token GitHub revoked meanwhile
// is replaced, and the sync succeeds.
func TestDefaultRunner_ReusesToken(t *testing.T) {
	t.Parallel()
	b := setupRunner(t)
	ctx := context.Background()
	b.push(t, "main", map[string]string{"README": "hello"})
	m := b.mirror(t, "widget", store.AToB)
	if _, err := b.runner.Sync(ctx, m); err != nil {
		t.Fatalf("first Sync: %v", err)
	}
	m.Status = store.StatusInSync // as the worker records it
	repoGets := func() int { return b.f.APIStats().Endpoints["gitee GET /repos/{owner}/{repo}"] }
	gets := repoGets()
	sha := b.push(t, "main", map[string]string{"README": "again"})
	if _, err := b.runner.Sync(ctx, m); err != nil {
		t.Fatalf("second Sync: %v", err)
	}
	if got := b.f.Refs(giteeOrg, "widget")["refs/heads/main"]; got != sha {
		t.Errorf("Gitee main = %s, want %s", got, sha)
	}
	if n := len(b.tokensWith("contents", "write")); n != 1 {
		t.Errorf("tokens minted after two syncs: %d, want 1", n)
	}
	if got := repoGets(); got != gets {
		t.Errorf("the second sync asked Gitee for the repository %d times, want 0", got-gets)
	}

	// Suspending the installation revokes its tokens; after unsuspending,
	// the kept one is refused and a new one minted.
	b.f.SuspendInstallation(installationID, true)
	b.f.SuspendInstallation(installationID, false)
	sha = b.push(t, "main", map[string]string{"README": "third"})
	if _, err := b.runner.Sync(ctx, m); err != nil {
		t.Fatalf("Sync after the token was revoked: %v", err)
	}
	if got := b.f.Refs(giteeOrg, "widget")["refs/heads/main"]; got != sha {
		t.Errorf("Gitee main = %s, want %s", got, sha)
	}
	if n := len(b.tokensWith("contents", "write")); n != 2 {
		t.Errorf("tokens minted: %d, want 2 (one replacing the revoked one)", n)
	}
}
