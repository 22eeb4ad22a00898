package forgetest

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/githubapp"
)

const (
	testAppID     = 42
	testInstallID = 100
)

// appBundle is a forge with a GitHub App installed on the organisation acme
// (all its repositories: one, two, private priv) and the real App client.
type appBundle struct {
	f   *Forge
	key []byte
	app *githubapp.AppTransport
}

func appSetup(t *testing.T) appBundle {
	t.Helper()
	f := New(t)
	f.AddOrg("acme")
	f.CreateRepo("acme", "one")
	f.CreateRepo("acme", "two")
	f.SetRepo("acme", "priv", RepoMeta{Private: true})
	key := f.RegisterApp(testAppID, "mirror-app")
	f.AddInstallation(testAppID, testInstallID, "acme", "acme/*")
	app, err := githubapp.NewAppTransport(testAppID, key, githubapp.AppOptions{APIURL: f.GitHubAPIURL(), RetryBase: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return appBundle{f: f, key: key, app: app}
}

// signJWT signs claims with the PEM key as an App's JWT.
func signJWT(t *testing.T, keyPEM []byte, claims map[string]any) string {
	t.Helper()
	block, _ := pem.Decode(keyPEM)
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signed := enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." + enc(claims)
	sum := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestAppMintsTokensAndPushes(t *testing.T) {
	t.Parallel()
	b := appSetup(t)
	f, ctx := b.f, context.Background()
	f.AllowWideTokens() // GitHub's own rules: unnarrowed requests below

	apps := b.app.Apps().Apps
	me, _, err := apps.Get(ctx, "")
	if err != nil || me.GetID() != testAppID || me.GetSlug() != "mirror-app" {
		t.Fatalf("GET /app = %+v, %v", me, err)
	}
	insts, _, err := apps.ListInstallations(ctx, nil)
	if err != nil || len(insts) != 1 || insts[0].GetID() != testInstallID || insts[0].GetAccount().GetLogin() != "acme" ||
		insts[0].GetTargetType() != "Organization" || insts[0].GetRepositorySelection() != "all" {
		t.Fatalf("GET /app/installations = %+v, %v", insts, err)
	}
	found, _, err := apps.FindRepositoryInstallation(ctx, "acme", "priv")
	if err != nil || found.GetID() != testInstallID || found.GetPermissions().GetChecks() != "write" {
		t.Errorf("GET /repos/acme/priv/installation = %+v, %v", found, err)
	}
	if _, resp, err := apps.FindRepositoryInstallation(ctx, "acme", "none"); err == nil || resp.StatusCode != 404 {
		t.Errorf("installation of a missing repository: %v", err)
	}
	if _, _, err := apps.FindOrganizationInstallation(ctx, "acme"); err != nil {
		t.Errorf("GET /orgs/acme/installation: %v", err)
	}

	token, expires, err := b.app.RepoToken(ctx, testInstallID, "acme/one")
	if err != nil || !strings.HasPrefix(token, "ghs_") {
		t.Fatalf("RepoToken = %q, %v", token, err)
	}
	if d := time.Until(expires); d < 59*time.Minute || d > time.Hour {
		t.Errorf("token expires in %v, want an hour", d)
	}
	minted := f.MintedTokens()
	want := MintedToken{Token: token, AppID: testAppID, InstallationID: testInstallID, Repositories: []string{"acme/one"},
		Permissions: Permissions{"contents": "write", "metadata": "read"}, ExpiresAt: expires}
	if len(minted) != 1 || !mintedEqual(minted[0], want) {
		t.Errorf("MintedTokens = %+v, want %+v", minted, want)
	}

	pushMain(t, f, "acme", "one", githubapp.GitUsername, token)
	err = pushNew(t, f, "acme", "two", githubapp.GitUsername, token)
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("push with a token narrowed to acme/one into acme/two: %v, want 403", err)
	}
	if _, err := Clone(t, f.GitURL("acme", "priv"), githubapp.GitUsername, token); err == nil {
		t.Error("clone of acme/priv with a token narrowed to acme/one")
	}
	// The API sees the same scope.
	c := githubClient(t, f, token)
	if _, err := c.GetRepo(ctx, "acme", "priv"); failure.ClassOf(err) != failure.NotFound {
		t.Errorf("GetRepo(acme/priv) with the narrowed token: %v", err)
	}
	if repos, err := c.ListInstallationRepos(ctx); err != nil || !slices.Equal(names(repos), []string{"acme/one"}) {
		t.Errorf("ListInstallationRepos = %v, %v", names(repos), err)
	}

	// By id, for the private repository.
	byID, _, err := b.app.RepoTokenByID(ctx, testInstallID, f.repo("acme", "priv").id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Clone(t, f.GitURL("acme", "priv"), githubapp.GitUsername, byID); err != nil {
		t.Errorf("clone with a token minted by repository id: %v", err)
	}

	// Narrowing beyond the installation is refused.
	for name, opts := range map[string]*github.InstallationTokenOptions{
		"missing repository":    {Repositories: []string{"none"}},
		"other account":         {Repositories: []string{"alice/x"}},
		"missing repository id": {RepositoryIDs: []int64{9999}},
		"workflows permission":  {Permissions: &github.InstallationPermissions{Workflows: github.String("write")}},
		"contents admin":        {Permissions: &github.InstallationPermissions{Contents: github.String("admin")}},
	} {
		if _, resp, err := apps.CreateInstallationToken(ctx, testInstallID, opts); err == nil || resp.StatusCode != 422 {
			t.Errorf("%s: %v, want 422", name, err)
		}
	}
	if _, resp, err := apps.CreateInstallationToken(ctx, 7, nil); err == nil || resp.StatusCode != 404 {
		t.Errorf("unknown installation: %v, want 404", err)
	}
	if _, _, err := b.app.RepoToken(ctx, testInstallID, "acme/none"); failure.ClassOf(err) == "" {
		t.Error("RepoToken for a missing repository succeeded")
	}

	// Without narrowing (ghinstallation's own tokens): the whole installation.
	all, _, err := apps.CreateInstallationToken(ctx, testInstallID, nil)
	if err != nil || all.Repositories != nil || all.GetPermissions().GetChecks() != "write" {
		t.Fatalf("unnarrowed token = %+v, %v", all, err)
	}
	pushMain(t, f, "acme", "two", githubapp.GitUsername, all.GetToken())
	if n := len(f.MintedTokens()); n != 3 {
		t.Errorf("%d tokens minted, want 3 (refusals mint none)", n)
	}

	// Expired, suspended and uninstalled.
	f.api.mu.Lock()
	f.api.installs[byID].expires = time.Now().Add(-time.Second)
	f.api.mu.Unlock()
	if _, err := Clone(t, f.GitURL("acme", "priv"), githubapp.GitUsername, byID); err == nil {
		t.Error("clone with an expired token")
	}
	if resp := apiGet(t, f.GitHubAPIURL()+"repos/acme/priv", "token "+byID, nil); resp.StatusCode != 401 {
		t.Errorf("API call with an expired token: %d, want 401", resp.StatusCode)
	}
	f.SuspendInstallation(testInstallID, true)
	if _, resp, err := apps.CreateInstallationToken(ctx, testInstallID, nil); err == nil || resp.StatusCode != 403 {
		t.Errorf("minting for a suspended installation: %v, want 403", err)
	}
	if err := pushNew(t, f, "acme", "one", githubapp.GitUsername, token); err == nil {
		t.Error("push with a token of a suspended installation")
	}
	f.SuspendInstallation(testInstallID, false)
	f.RemoveInstallation(testInstallID)
	if _, _, err := b.app.RepoToken(ctx, testInstallID, "acme/one"); failure.ClassOf(err) != failure.NotFound {
		t.Errorf("RepoToken after uninstall: %v, want not-found", err)
	}
}

func mintedEqual(a, b MintedToken) bool {
	return a.Token == b.Token && a.AppID == b.AppID && a.InstallationID == b.InstallationID &&
		slices.Equal(a.Repositories, b.Repositories) && maps.Equal(a.Permissions, b.Permissions) && a.ExpiresAt.Equal(b.ExpiresAt)
}

func TestAppJWT(t *testing.T) {
	t.Parallel()
	b := appSetup(t)
	other := b.f.RegisterApp(43, "other-app")
	now := time.Now().Unix()
	url := b.f.GitHubAPIURL() + "app"
	for _, tc := range []struct {
		name   string
		auth   string
		status int
		msg    string
	}{
		{"iss as a string", "Bearer " + signJWT(t, b.key, map[string]any{"iss": "42", "iat": now - 30, "exp": now + 90}), 200, ""},
		{"iss as a number, ten minutes", "Bearer " + signJWT(t, b.key, map[string]any{"iss": 42, "iat": now, "exp": now + 590}), 200, ""},
		{"no credentials", "", 401, githubNeedsAuth},
		{"a token", "token " + signJWT(t, b.key, map[string]any{"iss": 42, "iat": now, "exp": now + 60}), 401, jwtUndecodable},
		{"garbage", "Bearer abc.def", 401, jwtUndecodable},
		{"another App's key", "Bearer " + signJWT(t, other, map[string]any{"iss": 42, "iat": now, "exp": now + 60}), 401, jwtUndecodable},
		{"unknown App", "Bearer " + signJWT(t, b.key, map[string]any{"iss": 7, "iat": now, "exp": now + 60}), 404, appNotFound},
		{"no iss", "Bearer " + signJWT(t, b.key, map[string]any{"iat": now, "exp": now + 60}), 401, jwtBadIssuer},
		{"expired", "Bearer " + signJWT(t, b.key, map[string]any{"iss": 42, "iat": now - 700, "exp": now - 10}), 401, jwtBadExpiry},
		{"too far", "Bearer " + signJWT(t, b.key, map[string]any{"iss": 42, "iat": now, "exp": now + 660}), 401, jwtTooFar},
		{"fractional iat", "Bearer " + signJWT(t, b.key, map[string]any{"iss": 42, "iat": float64(now) + 0.5, "exp": now + 60}), 401, jwtBadIssuedAt},
		{"iat in the future", "Bearer " + signJWT(t, b.key, map[string]any{"iss": 42, "iat": now + 300, "exp": now + 400}), 401, jwtBadIssuedAt},
	} {
		var body map[string]any
		resp := apiGet(t, url, tc.auth, &body)
		if resp.StatusCode != tc.status || (tc.msg != "" && body["message"] != tc.msg) {
			t.Errorf("%s: %d %v, want %d %q", tc.name, resp.StatusCode, body["message"], tc.status, tc.msg)
		}
	}
	// The other App sees no installation of the first.
	jwt := signJWT(t, other, map[string]any{"iss": 43, "iat": now, "exp": now + 60})
	var list []any
	if resp := apiGet(t, b.f.GitHubAPIURL()+"app/installations", "Bearer "+jwt, &list); resp.StatusCode != 200 || len(list) != 0 {
		t.Errorf("other App's installations: %d %v", resp.StatusCode, list)
	}
	if resp := apiGet(t, b.f.GitHubAPIURL()+"app/installations/100", "Bearer "+jwt, nil); resp.StatusCode != 404 {
		t.Errorf("other App reads installation 100: %d", resp.StatusCode)
	}
}

func TestAppContents(t *testing.T) {
	t.Parallel()
	b := appSetup(t)
	f, ctx := b.f, context.Background()
	big := strings.Repeat("0123456789abcdef\n", 100)
	w := NewWork(t)
	w.Commit("config", map[string]string{".github/gitee-mirror.yml": "target: acme/one\n", "docs/big.txt": big, "README": "hi\n"})
	w.Tag("v1", "HEAD", true)
	first := w.Rev("HEAD")
	w.Commit("change", map[string]string{".github/gitee-mirror.yml": "target: acme/two\n"})
	if err := w.Push(f.GitURL("acme", "priv"), githubapp.GitUsername, mintFor(t, b, "priv"), "HEAD:refs/heads/main", "refs/tags/v1"); err != nil {
		t.Fatal(err)
	}
	c := githubClient(t, f, mintWith(t, b, "priv", Permissions{"contents": "read"}))
	for ref, want := range map[string]string{"": "target: acme/two\n", "main": "target: acme/two\n", "v1": "target: acme/one\n", first: "target: acme/one\n"} {
		got, sha, err := c.RepoFile(ctx, "acme", "priv", ".github/gitee-mirror.yml", ref)
		blob := w.Rev(firstOf(ref, "HEAD") + ":.github/gitee-mirror.yml")
		if err != nil || string(got) != want || sha != blob {
			t.Errorf("RepoFile at %q = %q, %s, %v; want %q, %s", ref, got, sha, err, want, blob)
		}
	}
	_, _, err := c.RepoFile(ctx, "acme", "priv", ".github/none.yml", "")
	wantClass(t, "missing file", err, failure.NotFound)
	_, _, err = c.RepoFile(ctx, "acme", "priv", ".github/gitee-mirror.yml", "nobranch")
	wantClass(t, "missing ref", err, failure.NotFound)
	_, _, err = c.RepoFile(ctx, "acme", "priv", "docs", "")
	wantClass(t, "directory", err, failure.Invalid)
	_, _, err = githubClient(t, f, "").RepoFile(ctx, "acme", "priv", "README", "")
	wantClass(t, "private repository, anonymous", err, failure.NotFound)

	// GitHub's shape: base64 in 60-character lines, blob sha, size.
	token := mintFor(t, b, "priv")
	var file map[string]any
	resp := apiGet(t, f.GitHubAPIURL()+"repos/acme/priv/contents/docs/big.txt", "token "+token, &file)
	content, _ := file["content"].(string)
	lines := strings.Split(strings.TrimSuffix(content, "\n"), "\n")
	for i, l := range lines {
		if len(l) != 60 && i != len(lines)-1 || len(l) > 60 {
			t.Fatalf("line %d of content has %d characters", i, len(l))
		}
	}
	raw, _ := base64.StdEncoding.DecodeString(strings.ReplaceAll(content, "\n", ""))
	if resp.StatusCode != 200 || file["type"] != "file" || file["encoding"] != "base64" || string(raw) != big ||
		file["size"] != float64(len(big)) || file["name"] != "big.txt" || file["path"] != "docs/big.txt" || file["sha"] != w.Rev("HEAD:docs/big.txt") {
		t.Errorf("contents of docs/big.txt: %d %v", resp.StatusCode, file)
	}
	var dir []map[string]any
	apiGet(t, f.GitHubAPIURL()+"repos/acme/priv/contents/?ref=v1", "token "+token, &dir)
	var listed []string
	for _, e := range dir {
		listed = append(listed, fmt.Sprint(e["type"], " ", e["path"]))
	}
	if !slices.Equal(listed, []string{"dir .github", "file README", "dir docs"}) {
		t.Errorf("root listing: %v", listed)
	}
	var missing map[string]any
	if resp := apiGet(t, f.GitHubAPIURL()+"repos/acme/priv/contents/nope", "token "+token, &missing); resp.StatusCode != 404 || missing["message"] != "Not Found" {
		t.Errorf("missing path: %d %v", resp.StatusCode, missing)
	}
	req, _ := http.NewRequest("GET", f.GitHubAPIURL()+"repos/acme/priv/contents/README", nil)
	req.Header.Set("Authorization", "token "+token)
	req.Header.Set("Accept", "application/vnd.github.raw+json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "hi\n" {
			t.Errorf("raw README = %q", body)
		}
	}

	// An installation without contents read is refused.
	f.SetInstallationPermissions(testInstallID, Permissions{"checks": "write"})
	noContents := mintWith(t, b, "priv", Permissions{"checks": "write"})
	if resp := apiGet(t, f.GitHubAPIURL()+"repos/acme/priv/contents/README", "token "+noContents, nil); resp.StatusCode != 403 {
		t.Errorf("contents without the contents permission: %d, want 403", resp.StatusCode)
	}
}

// mintFor mints a token for acme/<name> to push with (contents write).
func mintFor(t *testing.T, b appBundle, name string) string {
	t.Helper()
	return mintWith(t, b, name, Permissions{"contents": "write"})
}

// mintWith mints a token for acme/<name> with perms.
func mintWith(t *testing.T, b appBundle, name string, perms Permissions) string {
	t.Helper()
	raw, err := json.Marshal(perms)
	if err != nil {
		t.Fatal(err)
	}
	var p github.InstallationPermissions
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	tok, _, err := b.app.Apps().Apps.CreateInstallationToken(context.Background(), testInstallID,
		&github.InstallationTokenOptions{Repositories: []string{name}, Permissions: &p})
	if err != nil {
		t.Fatal(err)
	}
	return tok.GetToken()
}

func TestAppCheckRunsAndStatuses(t *testing.T) {
	t.Parallel()
	b := appSetup(t)
	f, ctx := b.f, context.Background()
	f.AddUser("alice", apiAliceToken)
	f.Grant("alice", "acme", "*", Write)
	sha := pushMain(t, f, "acme", "one", "alice", apiAliceToken)
	c := githubClient(t, f, mintWith(t, b, "one", Permissions{"checks": "write"}))

	id, err := c.CreateCheckRun(ctx, "acme", "one", sha, githubapp.CheckRun{Status: forge.CheckInProgress, Title: "Mirroring", Summary: "to Gitee"})
	if err != nil {
		t.Fatal(err)
	}
	err = c.UpdateCheckRun(ctx, "acme", "one", id, githubapp.CheckRun{Conclusion: forge.ConclusionSuccess, Title: "Mirrored", Summary: "all refs", DetailsURL: "https://example.test/m/1"})
	if err != nil {
		t.Fatal(err)
	}
	runs := f.CheckRuns("acme", "one")
	if len(runs) != 1 || runs[0].ID != id || runs[0].Name != forge.CheckRunName || runs[0].HeadSHA != sha ||
		runs[0].Status != "completed" || runs[0].Conclusion != "success" || runs[0].Title != "Mirrored" ||
		runs[0].AppID != testAppID || runs[0].InstallationID != testInstallID || runs[0].Updates != 1 || runs[0].CompletedAt.IsZero() {
		t.Fatalf("CheckRuns = %+v", runs)
	}
	if _, err := c.CreateCheckRun(ctx, "acme", "one", sha, githubapp.CheckRun{Conclusion: forge.ConclusionFailure, Summary: "again"}); err != nil {
		t.Fatal(err)
	}
	gh := c.API()
	latest, _, err := gh.Checks.ListCheckRunsForRef(ctx, "acme", "one", "main", nil)
	if err != nil || latest.GetTotal() != 1 || latest.CheckRuns[0].GetConclusion() != "failure" || latest.CheckRuns[0].GetApp().GetID() != testAppID {
		t.Errorf("latest check runs on main = %+v, %v", latest, err)
	}
	all, _, err := gh.Checks.ListCheckRunsForRef(ctx, "acme", "one", sha, &github.ListCheckRunsOptions{Filter: github.String("all")})
	if err != nil || all.GetTotal() != 2 {
		t.Errorf("all check runs = %+v, %v", all, err)
	}
	one, _, err := gh.Checks.GetCheckRun(ctx, "acme", "one", id)
	if err != nil || one.GetOutput().GetTitle() != "Mirrored" || one.GetDetailsURL() != "https://example.test/m/1" {
		t.Errorf("GetCheckRun = %+v, %v", one, err)
	}
	_, err = c.CreateCheckRun(ctx, "acme", "one", strings.Repeat("ab", 20), githubapp.CheckRun{})
	wantClass(t, "check run on a missing commit", err, failure.Invalid)
	_, err = githubClient(t, f, apiAliceToken).CreateCheckRun(ctx, "acme", "one", sha, githubapp.CheckRun{})
	wantClass(t, "check run by a user", err, failure.Permission)

	// Without checks write, with statuses write: no check runs, statuses.
	f.SetInstallationPermissions(testInstallID, Permissions{"contents": "write", "statuses": "write"})
	noChecks, _, err := b.app.RepoToken(ctx, testInstallID, "one") // asks contents write only
	if err != nil {
		t.Fatal(err)
	}
	_, err = githubClient(t, f, noChecks).CreateCheckRun(ctx, "acme", "one", sha, githubapp.CheckRun{})
	wantClass(t, "check run without checks write", err, failure.Permission)
	f.AllowTokenScope(Permissions{"statuses": "write"}) // the App sets no statuses; the forge serves them
	statusToken := mintWith(t, b, "one", Permissions{"statuses": "write"})
	for i, state := range []string{"pending", "success"} {
		resp, body := apiSend(t, "POST", f.GitHubAPIURL()+"repos/acme/one/statuses/"+sha, "token "+statusToken,
			`{"state":"`+state+`","context":"Gitee mirror","description":"step `+fmt.Sprint(i)+`"}`)
		if resp.StatusCode != 201 || body["state"] != state {
			t.Errorf("POST status %s: %d %v", state, resp.StatusCode, body)
		}
	}
	if resp, _ := apiSend(t, "POST", f.GitHubAPIURL()+"repos/acme/one/statuses/"+sha, "token "+statusToken, `{"state":"bad"}`); resp.StatusCode != 422 {
		t.Errorf("bad state: %d", resp.StatusCode)
	}
	combined, _, err := gh.Repositories.GetCombinedStatus(ctx, "acme", "one", "main", nil)
	if err != nil || combined.GetState() != "success" || combined.GetTotalCount() != 1 {
		t.Errorf("combined status = %+v, %v", combined, err)
	}
	if sts := f.CommitStatuses("acme", "one"); len(sts) != 2 || sts[1].Creator != "mirror-app[bot]" || sts[1].Context != "Gitee mirror" {
		t.Errorf("CommitStatuses = %+v", sts)
	}
}

func TestAppWorkflowsPermission(t *testing.T) {
	t.Parallel()
	b := appSetup(t)
	f, ctx := b.f, context.Background()
	token, _, err := b.app.RepoToken(ctx, testInstallID, "acme/one")
	if err != nil {
		t.Fatal(err)
	}
	url := f.GitURL("acme", "one")
	w := NewWork(t)
	w.Commit("base", map[string]string{"README": "x\n"})
	if err := w.Push(url, "", token, "HEAD:refs/heads/main"); err != nil {
		t.Fatal(err)
	}
	w.Branch("wf")
	w.Commit("add a workflow", map[string]string{".github/workflows/ci.yml": "on: push\n"})
	w.Checkout("main")
	w.Branch("plain")
	plain := w.Commit("plain change", map[string]string{"README": "y\n"})
	err = w.Push(url, "", token, "refs/heads/wf:refs/heads/wf", "refs/heads/plain:refs/heads/plain")
	wantLine := " ! [remote rejected] wf -> wf (refusing to allow a GitHub App to create or update workflow `.github/workflows/ci.yml` without `workflows` permission)\n"
	if err == nil || !strings.Contains(err.Error(), wantLine) || strings.Contains(err.Error(), "hook declined") {
		t.Errorf("push of a workflow: %v\nwant the line %q and no 'hook declined'", err, wantLine)
	}
	refs := f.Refs("acme", "one")
	if _, ok := refs["refs/heads/wf"]; ok || refs["refs/heads/plain"] != plain {
		t.Errorf("refs after the push: %v; want plain only", refs)
	}
	// A repository's own hooks still run: archived refuses everything.
	f.SetRepo("acme", "two", RepoMeta{Archived: true})
	if err := w.Push(f.GitURL("acme", "two"), "", mintFor(t, b, "two"), "refs/heads/plain:refs/heads/main"); err == nil ||
		!strings.Contains(err.Error(), archivedMessage) {
		t.Errorf("push to an archived repository: %v", err)
	}

	// Once the installation accepts workflows write, the same push lands.
	perms := DefaultPermissions()
	perms["workflows"] = "write"
	f.SetInstallationPermissions(testInstallID, perms)
	withWF, _, err := b.app.Apps().Apps.CreateInstallationToken(ctx, testInstallID, &github.InstallationTokenOptions{
		Repositories: []string{"one"},
		Permissions:  &github.InstallationPermissions{Contents: github.String("write"), Workflows: github.String("write")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Push(url, "", withWF.GetToken(), "refs/heads/wf:refs/heads/wf"); err != nil {
		t.Errorf("push with workflows write: %v", err)
	}
}

func TestRewriteReportWithoutSideband(t *testing.T) {
	t.Parallel()
	body := pkt("unpack ok\n") + pkt("ng refs/heads/a hook declined\n") + pkt("ok refs/heads/b\n") + "0000"
	got := rewriteReport([]byte(body), map[string]string{"refs/heads/a": "no"})
	want := pkt("unpack ok\n") + pkt("ng refs/heads/a no\n") + pkt("ok refs/heads/b\n") + "0000"
	if string(got) != want {
		t.Errorf("rewriteReport = %q, want %q", got, want)
	}
	if got := rewriteReport([]byte("junk"), map[string]string{"x": "y"}); string(got) != "junk" {
		t.Errorf("junk rewritten to %q", got)
	}
}

// hookSink records GitHub webhook deliveries.
type hookSink struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []sunk
}

type sunk struct {
	header http.Header
	body   []byte
}

func newHookSink(t *testing.T) *hookSink {
	h := &hookSink{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.reqs = append(h.reqs, sunk{r.Header.Clone(), body})
		h.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, "queued")
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookSink) last() sunk {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.reqs[len(h.reqs)-1]
}

func TestSendGitHubEvent(t *testing.T) {
	t.Parallel()
	if got := SignGitHub("It's a Secret to Everybody", []byte("Hello, World!")); got != "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17" {
		t.Errorf("SignGitHub test vector = %s", got)
	}
	b := appSetup(t)
	f := b.f
	w := NewWork(t)
	c1 := w.Commit("one", map[string]string{"a.txt": "a\n", "b.txt": "b\n"})
	token := mintFor(t, b, "one")
	if err := w.Push(f.GitURL("acme", "one"), "", token, "HEAD:refs/heads/main"); err != nil {
		t.Fatal(err)
	}
	w.Run("rm", "-q", "b.txt")
	c2 := w.Commit("two\n\nwith a body", map[string]string{"a.txt": "A\n", "c/d.txt": "d\n"})
	if err := w.Push(f.GitURL("acme", "one"), "", token, "HEAD:refs/heads/main"); err != nil {
		t.Fatal(err)
	}

	sink := newHookSink(t)
	p := f.PushPayload("acme", "one", "refs/heads/main", c1, c2, testInstallID)
	resp, err := f.SendGitHubEvent(sink.URL+"/webhook", "s3cret", "push", p)
	if err != nil || resp.StatusCode != 202 {
		t.Fatalf("SendGitHubEvent = %v, %v", resp, err)
	}
	if body, _ := io.ReadAll(resp.Body); string(body) != "queued" {
		t.Errorf("response body %q", body)
	}
	got := sink.last()
	m := hmac.New(sha256.New, []byte("s3cret"))
	m.Write(got.body)
	if sig := got.header.Get("X-Hub-Signature-256"); !hmac.Equal([]byte(sig), []byte("sha256="+hex.EncodeToString(m.Sum(nil)))) {
		t.Errorf("X-Hub-Signature-256 %q does not verify", sig)
	}
	guid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	h := got.header
	if h.Get("X-GitHub-Event") != "push" || !guid.MatchString(h.Get("X-GitHub-Delivery")) || h.Get("X-GitHub-Hook-ID") == "" ||
		!strings.HasPrefix(h.Get("User-Agent"), "GitHub-Hookshot/") || h.Get("Content-Type") != "application/json" ||
		h.Get("X-GitHub-Hook-Installation-Target-ID") != "42" {
		t.Errorf("delivery headers: %v", h)
	}

	var ev github.PushEvent
	if err := json.Unmarshal(got.body, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.GetRef() != "refs/heads/main" || ev.GetBefore() != c1 || ev.GetAfter() != c2 || ev.GetCreated() || ev.GetDeleted() || ev.GetForced() ||
		ev.GetInstallation().GetID() != testInstallID || ev.GetRepo().GetFullName() != "acme/one" || ev.GetRepo().GetDefaultBranch() != "main" ||
		ev.GetRepo().GetOwner().GetLogin() != "acme" || ev.GetRepo().GetID() == 0 || ev.GetRepo().GetPrivate() {
		t.Errorf("push event: %s", got.body)
	}
	if len(ev.Commits) != 1 || ev.Commits[0].GetID() != c2 || ev.Commits[0].GetMessage() != "two\n\nwith a body" ||
		!slices.Equal(ev.Commits[0].Added, []string{"c/d.txt"}) || !slices.Equal(ev.Commits[0].Modified, []string{"a.txt"}) ||
		!slices.Equal(ev.Commits[0].Removed, []string{"b.txt"}) || !ev.Commits[0].GetDistinct() || ev.GetHeadCommit().GetID() != c2 {
		t.Errorf("push commits: %+v", ev.Commits)
	}

	created := f.PushPayload("acme", "one", "refs/heads/main", "", c2, 0)
	if created["created"] != true || len(created["commits"].([]map[string]any)) != 2 || created["installation"] != nil {
		t.Errorf("created payload: %v", created)
	}
	w.Checkout(c1)
	c3 := w.Commit("rewritten", map[string]string{"a.txt": "z\n"})
	if err := w.Push(f.GitURL("acme", "one"), "", token, "+HEAD:refs/heads/main"); err != nil {
		t.Fatal(err)
	}
	if forced := f.PushPayload("acme", "one", "refs/heads/main", c2, c3, testInstallID); forced["forced"] != true {
		t.Errorf("force push not forced: %v", forced["forced"])
	}
	if del := f.PushPayload("acme", "one", "refs/heads/gone", c1, "", testInstallID); del["deleted"] != true || del["head_commit"] != nil {
		t.Errorf("deletion payload: %v", del)
	}

	// Redelivery keeps the id; installation events decode as go-github's.
	if _, err := f.SendGitHubEvent(sink.URL, "s3cret", "installation", f.InstallationPayload("created", testInstallID), WithDeliveryID("fixed-id")); err != nil {
		t.Fatal(err)
	}
	got = sink.last()
	var inst github.InstallationEvent
	if err := json.Unmarshal(got.body, &inst); err != nil || got.header.Get("X-GitHub-Delivery") != "fixed-id" ||
		inst.GetAction() != "created" || inst.GetInstallation().GetID() != testInstallID || inst.GetInstallation().GetAppID() != testAppID ||
		len(inst.Repositories) != 3 || inst.GetSender().GetLogin() != "acme" {
		t.Errorf("installation event: %v\n%s", err, got.body)
	}
	var ir github.InstallationRepositoriesEvent
	raw, _ := json.Marshal(f.InstallationRepositoriesPayload("removed", testInstallID, nil, []string{"acme/two"}))
	if err := json.Unmarshal(raw, &ir); err != nil || len(ir.RepositoriesRemoved) != 1 || ir.RepositoriesRemoved[0].GetFullName() != "acme/two" {
		t.Errorf("installation_repositories event: %v %s", err, raw)
	}
	var re github.RepositoryEvent
	raw, _ = json.Marshal(f.RepositoryPayload("archived", "acme", "one", testInstallID))
	if err := json.Unmarshal(raw, &re); err != nil || re.GetRepo().GetFullName() != "acme/one" || re.GetInstallation().GetID() != testInstallID {
		t.Errorf("repository event: %v %s", err, raw)
	}
	if _, err := f.SendGitHubEvent("http://example.com/hook", "", "ping", map[string]any{}); err == nil {
		t.Error("delivery to a non-loopback address")
	}
}
