package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
)

// chromiumPath is Debian's Chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// envScreenshots names the directory where the browser tests save a
// screenshot of every page they visit (default: a temp dir of the test).
const envScreenshots = "GITEE_MIRROR_SCREENSHOTS"

// browserRun is a headless Chromium driven by chromedp, with a fresh
// profile, that saves screenshots as it goes.
type browserRun struct {
	t    *testing.T
	ctx  context.Context
	dir  string
	shot int
}

func newBrowserRun(t *testing.T) *browserRun {
	t.Helper()
	path := chromiumPath
	if _, err := os.Stat(path); err != nil {
		if p, lerr := exec.LookPath("chromium"); lerr == nil {
			path = p
		} else {
			t.Skipf("browser test skipped: no Chromium at %s (apt-get install -y chromium; .ci/run does)", chromiumPath)
		}
	}
	dir := os.Getenv(envScreenshots)
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Skipf("browser test skipped: Chromium does not start: %v", err)
	}
	t.Logf("screenshots go to %s", dir)
	return &browserRun{t: t, ctx: ctx, dir: dir}
}

// do runs steps, failing the test with the page's address on error.
func (b *browserRun) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		loc, _ := chromedp.Run(b.ctx, chromedp.Location())
		b.screenshot("failed-" + what)
		b.t.Fatalf("%s (at %s): %v", what, loc, err)
	}
}

// screenshot saves the whole page as NN-name.png.
func (b *browserRun) screenshot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100)) // quality 100: PNG
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	b.shot++
	file := filepath.Join(b.dir, fmt.Sprintf("%02d-%s.png", b.shot, name))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Errorf("saving %s: %v", file, err)
	}
}

// text is the text of the page's body.
func (b *browserRun) text() string {
	b.t.Helper()
	return value(b, "reading the page", chromedp.Text(chromedp.CSS("body")))
}

// location is the page's address.
func (b *browserRun) location() string {
	return value(b, "reading the address", chromedp.Location())
}

// waitText reloads url until its body contains want and also holds.
func (b *browserRun) waitText(url, want string, also func() bool) {
	b.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		b.do("loading "+url, chromedp.Navigate(url))
		if strings.Contains(b.text(), want) && also() {
			return
		}
		if time.Now().After(deadline) {
			b.screenshot("timeout")
			b.t.Fatalf("%s never showed %q:\n%s", url, want, b.text())
		}
		b.do("waiting", chromedp.Sleep(250*time.Millisecond))
	}
}

// value runs an action that returns something.
func value[T any](b *browserRun, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		b.screenshot("failed-" + what)
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// TestBrowserFromNothingToMirrors goes from a fresh App to working mirrors
// the way a person does, in Chromium: register the GitHub App from the
// front page, install it, sign in with GitHub, connect Gitee, create a push
// mirror and see it in sync after a push, create a pull mirror and see its
// webhook registered on Gitee.
func TestBrowserFromNothingToMirrors(t *testing.T) {
	t.Parallel()
	b := newBrowserRun(t)
	const giteeToken = "gitee-pat-browser-7c1e"
	f := forgetest.New(t)
	f.SignInAs("alice")
	f.AddUser("alice", "alice-git-token")
	f.CreateRepo("alice", "proj")
	f.CreateRepo("alice", "pulled")
	f.GrantAdmin("alice", "alice", "proj")
	f.GrantAdmin("alice", "alice", "pulled")
	f.CreateRepo("gitee-alice", "proj")
	f.CreateRepo("gitee-alice", "pulled")
	f.AddUser("gitee-alice", giteeToken)
	f.Grant("gitee-alice", "gitee-alice", "*", forgetest.Write)

	base, logs, _ := start(t, map[string]string{
		"GITEE_MIRROR_SECRET_KEY":         strings.Repeat("3c", 32),
		"GITEE_MIRROR_ALLOW_HTTP":         "true", // the forge is on loopback
		"GITEE_MIRROR_GITHUB_API_URL":     f.GitHubAPIURL(),
		"GITEE_MIRROR_GITHUB_URL":         f.BaseURL(),
		"GITEE_MIRROR_GITEE_API_URL":      f.GiteeAPIURL(),
		"GITEE_MIRROR_GITEE_URL":          f.BaseURL(),
		"GITEE_MIRROR_RECONCILE_INTERVAL": "1h",
	})
	defer func() {
		if t.Failed() {
			t.Logf("App logs:\n%s", logs)
		}
	}()

	// 1. Front page → register the App from a manifest.
	b.do("front page", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`a[href="/settings/register"]`)))
	b.screenshot("front-page")
	// The register page asks for the set-up code the App printed at start.
	setupCode := regexp.MustCompile(`setup_code=([A-Z2-7-]+)`).FindStringSubmatch(logs.String())
	if setupCode == nil {
		t.Fatalf("no set-up code in the App's log:\n%s", logs)
	}
	b.do("register page", chromedp.Click(chromedp.CSS(`a[href="/settings/register"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#setup_code`)))
	b.screenshot("register")
	b.do("entering the set-up code", chromedp.SendKeys(chromedp.CSS(`#setup_code`), setupCode[1]),
		chromedp.Click(chromedp.CSS(`button.primary`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name=manifest]`+"~"+`button.primary`)))
	b.screenshot("manifest")
	b.do("registering", chromedp.Click(chromedp.CSS(`button.primary`)),
		chromedp.WaitVisible(chromedp.CSS(`a.button.primary`)))
	if got := b.text(); !strings.Contains(got, "GitHub App registered") {
		t.Fatalf("after registration:\n%s", got)
	}
	b.screenshot("registered")

	// 2. Install it: GitHub delivers the installation event, signed with
	// the secret the App learnt a moment ago, and sends the person back.
	b.do("installing", chromedp.Click(chromedp.CSS(`a.button.primary`)),
		chromedp.WaitVisible(chromedp.CSS(`a.button[href="/settings/login"]`)))
	b.screenshot("sign-in")

	// 3. Sign in with GitHub.
	b.do("signing in", chromedp.Click(chromedp.CSS(`a.button[href="/settings/login"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href^="/settings/installations/"]`)))
	if got := b.text(); !strings.Contains(got, "Signed in as alice") {
		t.Fatalf("after sign-in:\n%s", got)
	}
	b.screenshot("installations")
	instHref := value(b, "installation link", chromedp.AttributeValue(chromedp.CSS(`a[href^="/settings/installations/"]`), "href")).Value
	installationID, _ := strconv.ParseInt(regexp.MustCompile(`\d+$`).FindString(instHref), 10, 64)

	// 4. Connect Gitee.
	b.do("installation page", chromedp.Click(chromedp.CSS(`a[href^="/settings/installations/"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#token`)),
		chromedp.SendKeys(chromedp.CSS(`#token`), giteeToken),
		chromedp.Submit(chromedp.CSS(`#token`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice`)))
	page := b.text()
	if !strings.Contains(page, "Connected as gitee-alice") || !strings.Contains(page, "…7c1e") {
		t.Fatalf("after connecting Gitee:\n%s", page)
	}
	html := value(b, "page source", chromedp.OuterHTML(chromedp.CSS("html")))
	if strings.Contains(html, giteeToken) {
		t.Errorf("the page shows the Gitee token")
	}
	b.screenshot("gitee-connected")
	instURL, _, _ := strings.Cut(b.location(), "?")

	// 5. A push mirror of alice/proj.
	b.do("repository page", chromedp.Click(chromedp.Search(`//a[text()="alice/proj"]`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name=gitee_owner]`)))
	b.screenshot("repository")
	b.do("creating the push mirror", chromedp.Click(chromedp.CSS(`form[action$="/mirrors"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice`)))
	repoURL := b.location()
	if got := b.text(); !strings.Contains(got, "Mirror to gitee-alice/proj created") {
		t.Fatalf("after creating the mirror:\n%s", got)
	}

	// Push to GitHub; GitHub tells the App.
	w := forgetest.NewWork(t)
	sha := w.Commit("first", map[string]string{"README.md": "hello\n"})
	if err := w.Push(f.GitURL("alice", "proj"), "alice", "alice-git-token", "HEAD:refs/heads/main"); err != nil {
		t.Fatal(err)
	}
	hookURL, hookSecret := f.AppWebhook(appIDOf(t, f))
	payload := f.PushPayload("alice", "proj", "refs/heads/main", strings.Repeat("0", 40), sha, installationID)
	if resp, err := f.SendGitHubEvent(hookURL, hookSecret, "push", payload); err != nil || resp.StatusCode/100 != 2 {
		t.Fatalf("push delivery: %v %v", resp, err)
	}
	// The first sync (of the empty repository) was in sync already: wait
	// for the push to reach Gitee too.
	b.waitText(base+"/settings/status", "in sync", func() bool {
		return f.Refs("gitee-alice", "proj")["refs/heads/main"] == sha
	})
	b.waitText(base+"/settings/status", "in sync", func() bool { return true })
	b.screenshot("status-in-sync")
	b.do("repository page again", chromedp.Navigate(repoURL), chromedp.WaitVisible(chromedp.CSS(`.mirror`)))
	b.screenshot("mirror-in-sync")

	// 6. A pull mirror of alice/pulled: its Gitee webhook is registered.
	b.do("installation page again", chromedp.Navigate(instURL),
		chromedp.Click(chromedp.Search(`//a[text()="alice/pulled"]`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name=gitee_owner]`)),
		chromedp.Click(chromedp.CSS(`form[action$="/mirrors"] input[name=direction][value=pull]`)),
		chromedp.Click(chromedp.CSS(`form[action$="/mirrors"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice`)))
	if got := b.text(); !strings.Contains(got, "Gitee webhook registered") {
		t.Fatalf("after creating the pull mirror:\n%s", got)
	}
	b.screenshot("pull-mirror")
	hooks := f.GiteeHooks("gitee-alice", "pulled")
	if len(hooks) != 1 || !strings.HasPrefix(hooks[0].URL, base+"/webhooks/gitee/") {
		t.Fatalf("Gitee hooks of gitee-alice/pulled: %+v", hooks)
	}
	// The page shows a notice already: wait for the test's own.
	b.do("testing the webhook", chromedp.Click(chromedp.Search(`//button[text()="Test webhook"]`)),
		chromedp.WaitVisible(chromedp.Search(`//p[@class="notice" and contains(., "test delivery")]`)))
	b.screenshot("webhook-tested")
}

// appIDOf is the id of the one App the forge registered from a manifest.
func appIDOf(t *testing.T, f *forgetest.Forge) int64 {
	t.Helper()
	for id := int64(900001); id < 900010; id++ {
		if u, _ := f.AppWebhook(id); u != "" {
			return id
		}
	}
	t.Fatal("no App registered from a manifest")
	return 0
}
