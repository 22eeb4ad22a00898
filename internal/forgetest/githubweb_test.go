package forgetest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// oauthToken runs the web flow for login against App appID and returns the
// user token.
func oauthToken(t *testing.T, f *Forge, clientID, secret, verifier string) string {
	t.Helper()
	sum := sha256.Sum256([]byte("the-verifier"))
	q := url.Values{"client_id": {clientID}, "redirect_uri": {"http://app.test/cb"}, "state": {"s1"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	resp, err := noRedirect.Get(f.BaseURL() + "/login/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Query().Get("state") != "s1" || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %d %s", resp.StatusCode, loc)
	}
	form := url.Values{"client_id": {clientID}, "client_secret": {secret}, "code": {loc.Query().Get("code")},
		"code_verifier": {verifier}, "redirect_uri": {"http://app.test/cb"}}
	req, _ := http.NewRequest(http.MethodPost, f.BaseURL()+"/login/oauth/access_token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]string
	json.NewDecoder(resp.Body).Decode(&out)
	return out["access_token"]
}

func TestOAuthWebFlowChecksPKCE(t *testing.T) {
	t.Parallel()
	f := New(t)
	f.RegisterApp(5, "app")
	id, secret := f.EnableOAuth(5, "http://app.test/cb")
	f.SignInAs("alice")
	if tok := oauthToken(t, f, id, secret, "wrong-verifier"); tok != "" {
		t.Errorf("a wrong code_verifier got token %q", tok)
	}
	tok := oauthToken(t, f, id, secret, "the-verifier")
	if login, ok := f.Login(tok); !ok || login != "alice" || !strings.HasPrefix(tok, "ghu_") {
		t.Errorf("token %q belongs to %q, %v", tok, login, ok)
	}
	// Unknown redirect URIs are refused.
	resp, _ := noRedirect.Get(f.BaseURL() + "/login/oauth/authorize?client_id=" + id + "&redirect_uri=http://evil.test/cb")
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("foreign redirect_uri: %d", resp.StatusCode)
	}
}

func TestUserInstallationsAndPermission(t *testing.T) {
	t.Parallel()
	f := New(t)
	f.RegisterApp(5, "app")
	id, secret := f.EnableOAuth(5, "http://app.test/cb")
	f.CreateRepo("alice", "a")
	f.CreateRepo("carol", "c")
	f.GrantAdmin("alice", "alice", "a")
	f.Grant("bob", "alice", "a", Read)
	f.AddInstallation(5, 1, "alice", "alice/*")
	f.AddInstallation(5, 2, "carol", "carol/c")
	f.SignInAs("bob")
	tok := oauthToken(t, f, id, secret, "the-verifier")
	get := func(path string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, f.GitHubAPIURL()+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("user/installations"); code != http.StatusOK || !strings.Contains(body, `"total_count":1`) || !strings.Contains(body, `"id":1,`) {
		t.Errorf("installations: %d %s", code, body)
	}
	if code, body := get("user/installations/1/repositories"); code != http.StatusOK || !strings.Contains(body, `"full_name":"alice/a"`) {
		t.Errorf("repositories: %d %s", code, body)
	}
	if code, _ := get("user/installations/2/repositories"); code != http.StatusNotFound {
		t.Errorf("carol's installation: %d, want 404", code)
	}
	for login, want := range map[string]string{"alice": "admin", "bob": "read", "mallory": "none"} {
		if _, body := get("repos/alice/a/collaborators/" + login + "/permission"); !strings.Contains(body, `"permission":"`+want+`"`) {
			t.Errorf("%s: %s, want %s", login, body, want)
		}
	}
}

func TestManifestConversionIsSingleUse(t *testing.T) {
	t.Parallel()
	f := New(t)
	f.SignInAs("alice")
	manifest := `{"name":"My App","url":"http://app.test/","hook_attributes":{"url":"http://app.test/hook"},"redirect_url":"http://app.test/done","callback_urls":["http://app.test/cb"],"default_permissions":{"contents":"write"}}`
	resp, err := noRedirect.PostForm(f.BaseURL()+"/settings/apps/new?state=xyz", url.Values{"manifest": {manifest}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Query().Get("state") != "xyz" || loc.Path != "/done" {
		t.Fatalf("redirect: %s", loc)
	}
	convert := func() (int, map[string]any) {
		resp, err := http.Post(f.GitHubAPIURL()+"app-manifests/"+loc.Query().Get("code")+"/conversions", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	code, out := convert()
	if code != http.StatusCreated || out["slug"] != "my-app" || !strings.Contains(out["pem"].(string), "RSA PRIVATE KEY") ||
		out["webhook_secret"] == "" || out["client_secret"] == "" {
		t.Fatalf("conversion: %d %v", code, out)
	}
	if url, secret := f.AppWebhook(int64(out["id"].(float64))); url != "http://app.test/hook" || secret != out["webhook_secret"] {
		t.Errorf("AppWebhook = %s, %s", url, secret)
	}
	if code, _ := convert(); code != http.StatusNotFound {
		t.Errorf("second conversion: %d, want 404", code)
	}
}
