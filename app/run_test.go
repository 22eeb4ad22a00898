package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/logtest"

	"github.com/gitee-mirror/gitee-mirror/internal/webhook"
)

// syncBuffer is the shared concurrent-safe log sink.
type syncBuffer = logtest.Buffer

// start runs the App with vars (plus a temp data dir and a loopback port)
// and returns its base URL, its logs, and a stop function that cancels it
// and returns run's error.
func start(t *testing.T, vars map[string]string) (base string, logs *syncBuffer, stop func() error) {
	t.Helper()
	dir := t.TempDir()
	env := map[string]string{"GITEE_MIRROR_DATA_DIR": dir, "GITEE_MIRROR_LISTEN_ADDR": "127.0.0.1:0"}
	for k, v := range vars {
		env[k] = v
	}
	logs = &syncBuffer{}
	addr := make(chan net.Addr, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, env2(env, logs, func(a net.Addr) { addr <- a }))
	}()
	select {
	case a := <-addr:
		base = "http://" + a.String()
	case err := <-done:
		cancel()
		t.Fatalf("run returned before listening: %v\n%s", err, logs)
	}
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			runErr = <-done
		})
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return base, logs, stop
}

func env2(vars map[string]string, log io.Writer, onListen func(net.Addr)) env {
	environ := func() []string {
		var kv []string
		for k, v := range vars {
			kv = append(kv, k+"="+v)
		}
		return kv
	}
	return env{Getenv: func(k string) string { return vars[k] }, Environ: environ, Log: log, OnListen: onListen}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestRunWithEmptyEnvironment(t *testing.T) {
	t.Parallel()
	base, logs, stop := start(t, nil)

	code, body := get(t, base+"/")
	if code != http.StatusOK || !strings.Contains(body, "GITEE_MIRROR_APP_ID") || !strings.Contains(body, "settings/apps/new") {
		t.Errorf("GET / = %d:\n%s", code, body)
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		if code, body := get(t, base+path); code != http.StatusOK {
			t.Errorf("GET %s = %d: %s", path, code, body)
		}
	}
	// GitHub deliveries are refused without a webhook secret.
	resp, err := http.Post(base+"/webhooks/github", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GitHub delivery without a secret configured: %d", resp.StatusCode)
	}

	if err := stop(); err != nil {
		t.Fatalf("run: %v\n%s", err, logs)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Errorf("still serving after shutdown")
	}
	if !strings.Contains(logs.String(), "stopped") {
		t.Errorf("no clean stop in the logs:\n%s", logs)
	}
}

func TestRunWithApp(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "app.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(keyFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	const canary = "webhook-secret-canary-1234"
	base, logs, stop := start(t, map[string]string{
		"GITEE_MIRROR_APP_ID":             "12345",
		"GITEE_MIRROR_PRIVATE_KEY_FILE":   keyFile,
		"GITEE_MIRROR_WEBHOOK_SECRET":     canary,
		"GITEE_MIRROR_SECRET_KEY":         strings.Repeat("0f", 32),
		"GITEE_MIRROR_RECONCILE_INTERVAL": "1h",
		"GITEE_MIRROR_LOG_FORMAT":         "json",
		"GITEE_MIRROR_LOG_LEVEL":          "debug",
		"GITEE_MIRROR_PUBLIC_URL":         "https://mirror.example.com",
		"GITEE_MIRROR_SHUTDOWN_TIMEOUT":   "5s",
		"GITEE_MIRROR_WEBHOOK_MAX_BYTES":  "1MiB",
		"GITEE_MIRROR_ALLOW_HTTP":         "true",
		"GITEE_MIRROR_GITHUB_API_URL":     "http://127.0.0.1:1/",
		"GITEE_MIRROR_GITEE_API_URL":      "http://127.0.0.1:1/api/v5",
		"GITEE_MIRROR_MAX_FAILURES":       "3",
		"GITEE_MIRROR_SYNC_TIMEOUT":       "1m",
	})
	code, body := get(t, base+"/")
	if code != http.StatusOK || !strings.Contains(body, "Status") || !strings.Contains(body, "https://mirror.example.com/webhooks/github") {
		t.Errorf("GET / = %d:\n%s", code, body)
	}
	// A signed delivery reaches the real queue; its redelivery is a
	// duplicate.
	delivery := `{"action":"created","installation":{"id":9,"account":{"login":"octo","type":"User"}},"repositories":[{"id":5,"full_name":"octo/repo"}]}`
	for i, want := range []string{`"accepted"`, `"duplicate"`} {
		req, _ := http.NewRequest(http.MethodPost, base+"/webhooks/github", strings.NewReader(delivery))
		req.Header.Set("X-GitHub-Event", "installation")
		req.Header.Set("X-GitHub-Delivery", "delivery-1")
		req.Header.Set("X-Hub-Signature-256", webhook.Sign([]byte(canary), []byte(delivery)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(got), want) {
			t.Errorf("delivery %d: %d %s, want 200 %s", i+1, resp.StatusCode, got, want)
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	for _, secret := range []string{canary, string(pemBytes[40:80])} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("logs contain a secret")
		}
	}
}

func TestRunBadConfig(t *testing.T) {
	t.Parallel()
	err := run(context.Background(), env2(map[string]string{
		"GITEE_MIRROR_DATA_DIR":     t.TempDir(),
		"GITEE_MIRROR_DATABASE_URL": "postgres://user:pw@db/gm",
	}, io.Discard, nil))
	if err == nil || !strings.Contains(err.Error(), "GITEE_MIRROR_DATABASE_URL") || strings.Contains(err.Error(), "pw@") {
		t.Errorf("run = %v, want an error naming GITEE_MIRROR_DATABASE_URL without its password", err)
	}
}

func TestRunPortTaken(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = run(ctx, env2(map[string]string{
		"GITEE_MIRROR_DATA_DIR":    t.TempDir(),
		"GITEE_MIRROR_LISTEN_ADDR": ln.Addr().String(),
	}, io.Discard, nil))
	if err == nil || !strings.Contains(err.Error(), "GITEE_MIRROR_LISTEN_ADDR") {
		t.Errorf("run = %v, want an error naming GITEE_MIRROR_LISTEN_ADDR", err)
	}
}

// TestRunConfigWarnings: a misspelt variable is named at start with the
// one meant, and plain http (allowed explicitly) is warned about.
func TestRunConfigWarnings(t *testing.T) {
	t.Parallel()
	_, logs, stop := start(t, map[string]string{
		"GITEE_MIRROR_RECONCILE_INTERVALL": "1h",
		"GITEE_MIRROR_ALLOW_HTTP":          "true",
		"GITEE_MIRROR_GITEE_API_URL":       "http://127.0.0.1:1/api/v5",
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`did you mean GITEE_MIRROR_RECONCILE_INTERVAL?" variable=GITEE_MIRROR_RECONCILE_INTERVALL`,
		`tokens sent to these hosts cross the network unencrypted`, `GITEE_MIRROR_GITEE_API_URL`,
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
}

// TestRunRefusesPlainHTTP: a site URL over plain http, even on loopback,
// stops the start unless GITEE_MIRROR_ALLOW_HTTP=true.
func TestRunRefusesPlainHTTP(t *testing.T) {
	t.Parallel()
	err := run(context.Background(), env2(map[string]string{
		"GITEE_MIRROR_DATA_DIR":       t.TempDir(),
		"GITEE_MIRROR_GITHUB_API_URL": "http://127.0.0.1:1/",
	}, io.Discard, nil))
	if err == nil || !strings.Contains(err.Error(), "GITEE_MIRROR_GITHUB_API_URL") || !strings.Contains(err.Error(), "GITEE_MIRROR_ALLOW_HTTP=true") {
		t.Errorf("run = %v, want a refusal naming the variable and the opt-in", err)
	}
}
