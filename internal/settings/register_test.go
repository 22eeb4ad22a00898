package settings

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func TestOneClickRegistration(t *testing.T) {
	t.Parallel()
	tb := setup(t, false)
	tb.forge.SignInAs("alice")
	b := tb.browser(t)
	code, body := b.get(Prefix + "/register")
	if code != http.StatusOK {
		t.Fatalf("register page: %d\n%s", code, body)
	}
	action := regexp.MustCompile(`<form method="post" action="([^"]+)">\s*<input type="hidden" name="manifest" value="([^"]+)">`).FindStringSubmatch(body)
	if action == nil {
		t.Fatalf("no manifest form:\n%s", body)
	}
	target, manifest := html.UnescapeString(action[1]), html.UnescapeString(action[2])
	if !strings.HasPrefix(target, tb.forge.BaseURL()+"/settings/apps/new?state=") {
		t.Errorf("form posts to %s", target)
	}
	// The browser posts the manifest to GitHub, which sends it back.
	resp, err := b.c.PostForm(target, url.Values{"manifest": {manifest}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != Prefix+"/registered" {
		t.Fatalf("after GitHub: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	select {
	case <-tb.registered:
	default:
		t.Errorf("OnRegistered was not called")
	}
	reg, err := LoadRegistration(context.Background(), tb.store)
	if err != nil || reg == nil || reg.AppID == 0 || !strings.Contains(reg.PrivateKey, "PRIVATE KEY") ||
		reg.WebhookSecret == "" || reg.ClientID == "" || reg.ClientSecret == "" {
		t.Fatalf("registration = %+v, %v", reg, err)
	}
	ms := tb.forge.AppManifests()
	if len(ms) != 1 {
		t.Fatalf("manifests: %d", len(ms))
	}
	m := ms[0]
	hook := m["hook_attributes"].(map[string]any)
	perms := m["default_permissions"].(map[string]any)
	if hook["url"] != tb.srv.URL+"/webhooks/github" || m["public"] != false || m["redirect_url"] != tb.srv.URL+Prefix+"/registered" ||
		perms["contents"] != "write" || perms["metadata"] != "read" || perms["workflows"] != "write" ||
		perms["checks"] != "write" || perms["administration"] != "write" {
		t.Errorf("manifest = %v", m)
	}
	// Registered: the page is closed, and sign-in works with the new
	// OAuth credentials.
	if code, _ := b.get(Prefix + "/register"); code != http.StatusConflict {
		t.Errorf("second registration: %d, want 409", code)
	}
	tb.forge.AddInstallation(reg.AppID, 555, "alice", "alice/*")
	b.signIn("alice")
	if _, body := b.get(Prefix + "/"); !strings.Contains(body, "/installations/555") {
		t.Errorf("dashboard after registration:\n%s", body)
	}
}

func TestRegistrationWrongStateRefused(t *testing.T) {
	t.Parallel()
	tb := setup(t, false)
	b := tb.browser(t)
	if code, _ := b.get(Prefix + "/registered?code=abc&state=forged"); code != http.StatusBadRequest {
		t.Errorf("forged registration state: %d, want 400", code)
	}
	if reg, _ := LoadRegistration(context.Background(), tb.store); reg != nil {
		t.Errorf("registered with a forged state")
	}
}
