package settings

import (
	"context"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/githubapp"
	"github.com/gitee-mirror/gitee-mirror/internal/logtest"
)

func TestOneClickRegistration(t *testing.T) {
	t.Parallel()
	tb := setup(t, false)
	tb.forge.SignInAs("alice")
	b := tb.browser(t)
	code, body := b.get(Prefix + "/register")
	if code != http.StatusOK || !strings.Contains(body, `name="setup_code"`) {
		t.Fatalf("register page: %d\n%s", code, body)
	}
	// The code as a person copies it from the log: case and spaces vary.
	code, body = b.post(Prefix+"/register", url.Values{setupCodeField: {" abcde-fghij-klmno-pqrst "}})
	if code != http.StatusOK {
		t.Fatalf("register with the set-up code: %d\n%s", code, body)
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
		perms["checks"] != "write" || len(perms) != 4 {
		t.Errorf("manifest = %v", m)
	}
	// The events the App handles, releases among them.
	var events []string
	for _, e := range m["default_events"].([]any) {
		events = append(events, e.(string))
	}
	if !slices.Equal(events, githubapp.Events) || !slices.Contains(events, "release") || !slices.Contains(events, "push") {
		t.Errorf("manifest events = %v, want %v", events, githubapp.Events)
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

// TestRegistrationNeedsSetupCode: whoever reaches a new server first
// cannot register its App without the code from the server's log; nothing
// reaches GitHub before the code is right.
func TestRegistrationNeedsSetupCode(t *testing.T) {
	t.Parallel()
	tests := map[string]url.Values{
		"no code":        {},
		"empty code":     {setupCodeField: {""}},
		"wrong code":     {setupCodeField: {"ABCDE-FGHIJ-KLMNO-PQRSX"}},
		"a prefix":       {setupCodeField: {"ABCDE"}},
		"with an org":    {setupCodeField: {"nope"}, "org": {"acme"}},
		"code in query?": {"code": {testSetupCode}},
	}
	for name, form := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tb := setup(t, false)
			b := tb.browser(t)
			code, body := b.post(Prefix+"/register", form)
			if code != http.StatusForbidden || !strings.Contains(body, "set-up code") || strings.Contains(body, `name="manifest"`) {
				t.Errorf("register with %v: %d\n%s", form, code, body)
			}
			if n := len(tb.forge.AppManifests()); n != 0 {
				t.Errorf("%d manifests reached GitHub", n)
			}
		})
	}
}

// TestRegistrationNeedsSecretKey: without GITEE_MIRROR_SECRET_KEY the
// page says why and offers no working button, and the manifest is never
// sent: GitHub would spend its one-time code on credentials this server
// could not store.
func TestRegistrationNeedsSecretKey(t *testing.T) {
	t.Parallel()
	tb := setup(t, false)
	tb.cfg.SecretKey = ""
	b := tb.browser(t)
	code, body := b.get(Prefix + "/register")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "GITEE_MIRROR_SECRET_KEY") ||
		!strings.Contains(body, "disabled") || strings.Contains(body, `name="setup_code"`) {
		t.Errorf("register page without a key: %d\n%s", code, body)
	}
	code, body = b.post(Prefix+"/register", url.Values{setupCodeField: {testSetupCode}})
	if code != http.StatusServiceUnavailable || strings.Contains(body, `name="manifest"`) {
		t.Errorf("register without a key: %d\n%s", code, body)
	}
	if code, _ := b.get(Prefix + "/registered?code=abc&state=forged"); code == http.StatusOK {
		t.Errorf("registered without a key: %d", code)
	}
	if n := len(tb.forge.AppManifests()); n != 0 {
		t.Errorf("%d manifests reached GitHub", n)
	}
}

// TestAnnounceSetupCode: the code is in the log while registration is
// open; without a key the log says what to set instead; with an App,
// nothing.
func TestAnnounceSetupCode(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		withApp, noKey bool
		want, notWant  []string
	}{
		"open":       {want: []string{"setup_code=" + testSetupCode, Prefix + "/register"}},
		"no key":     {noKey: true, want: []string{"GITEE_MIRROR_SECRET_KEY"}, notWant: []string{testSetupCode}},
		"registered": {withApp: true, notWant: []string{testSetupCode, "register"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tb := setup(t, tc.withApp)
			if tc.noKey {
				tb.cfg.SecretKey = ""
			}
			var logs logtest.Buffer
			h, err := New(Options{Config: tb.cfg, Store: tb.store, Queue: tb.queue, Sites: tb.h.opts.Sites, SetupCode: testSetupCode,
				Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			if err := h.AnnounceSetupCode(context.Background()); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(logs.String(), w) {
					t.Errorf("log lacks %q:\n%s", w, logs.String())
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(logs.String(), w) {
					t.Errorf("log has %q:\n%s", w, logs.String())
				}
			}
		})
	}
}

func TestNewSetupCode(t *testing.T) {
	t.Parallel()
	a, b := newSetupCode(), newSetupCode()
	if a == b || !regexp.MustCompile(`^[A-Z2-7]{5}(-[A-Z2-7]{5}){3}$`).MatchString(a) {
		t.Errorf("set-up codes %q, %q", a, b)
	}
}

// TestSetupCodeSharedByReplicas: replicas behind one load balancer log
// and accept the same code, kept encrypted in the store.
func TestSetupCodeSharedByReplicas(t *testing.T) {
	t.Parallel()
	tb := setup(t, false)
	ctx := context.Background()
	var codes []string
	var replicas []*Handler
	for range 2 {
		var logs logtest.Buffer
		h, err := New(Options{Config: tb.cfg, Store: tb.store, Queue: tb.queue, Sites: tb.h.opts.Sites, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		if err := h.AnnounceSetupCode(ctx); err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`setup_code=(\S+)`).FindStringSubmatch(logs.String())
		if m == nil {
			t.Fatalf("no code in the log:\n%s", logs.String())
		}
		codes, replicas = append(codes, m[1]), append(replicas, h)
	}
	if codes[0] != codes[1] {
		t.Errorf("replicas logged %q and %q", codes[0], codes[1])
	}
	if !replicas[1].setupCodeOK(ctx, codes[0]) || replicas[1].setupCodeOK(ctx, "") || replicas[0].setupCodeOK(ctx, "AAAAA-AAAAA-AAAAA-AAAAA") {
		t.Errorf("the code of one replica is not the other's")
	}
	if stored, _ := tb.store.Setting(ctx, SettingSetupCode); stored != codes[0] {
		t.Errorf("stored code %q, logged %q", stored, codes[0])
	}
}
