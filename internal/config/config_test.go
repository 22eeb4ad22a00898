package config_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/config"
)

const testPEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----"

// env returns a getenv over m.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "value")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	c, err := config.Load(env(nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"ListenAddr", c.ListenAddr, ":8080"},
		{"PublicURL", c.PublicURL, ""},
		{"DataDir", c.DataDir, "data"},
		{"DatabasePath", c.DatabasePath, filepath.Join("data", "gitee-mirror.db")},
		{"DatabaseURL", c.DatabaseURL, "sqlite://" + filepath.Join("data", "gitee-mirror.db")},
		{"AppID", c.AppID, int64(0)},
		{"GitHubAPIURL", c.GitHubAPIURL, "https://api.github.com/"},
		{"GitHubURL", c.GitHubURL, "https://github.com"},
		{"GiteeAPIURL", c.GiteeAPIURL, "https://gitee.com/api/v5"},
		{"GiteeURL", c.GiteeURL, "https://gitee.com"},
		{"MaxFailures", c.MaxFailures, 5},
		{"SyncTimeout", c.SyncTimeout, 30 * time.Minute},
		{"ReconcileInterval", c.ReconcileInterval, 10 * time.Minute},
		{"SyncSpacing", c.SyncSpacing, time.Second},
		{"WebhookMaxBytes", c.WebhookMaxBytes, int64(25 << 20)},
		{"ShutdownTimeout", c.ShutdownTimeout, 25 * time.Second},
		{"LeaseTTL", c.LeaseTTL, 30 * time.Second},
		{"LeaseRenew", c.LeaseRenew, 10 * time.Second},
		{"LogLevel", c.LogLevel, slog.LevelInfo},
		{"LogFormat", c.LogFormat, "text"},
		{"AppConfigured", c.AppConfigured(), false},
		{"SecretKeyBytes", c.SecretKeyBytes() == nil, true},
		{"AdminToken set", c.AdminToken.IsSet(), false},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %v, want %v", ck.name, ck.got, ck.want)
		}
	}
	if got := len(c.MissingApp()); got != 3 {
		t.Errorf("MissingApp = %v, want three variables", c.MissingApp())
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	keyFile := writeFile(t, testPEM+"\n")
	secretFile := writeFile(t, "from-a-file\n")
	tests := map[string]struct {
		env   map[string]string
		check func(t *testing.T, c *config.Config)
	}{
		"data dir moves the database": {
			env: map[string]string{"GITEE_MIRROR_DATA_DIR": "/var/lib/gm/"},
			check: func(t *testing.T, c *config.Config) {
				if got, want := c.DatabasePath, "/var/lib/gm/gitee-mirror.db"; got != want {
					t.Errorf("DatabasePath = %q, want %q", got, want)
				}
			},
		},
		"explicit sqlite URL": {
			env: map[string]string{"GITEE_MIRROR_DATABASE_URL": "sqlite:///srv/db.sqlite"},
			check: func(t *testing.T, c *config.Config) {
				if got, want := c.DatabasePath, "/srv/db.sqlite"; got != want {
					t.Errorf("DatabasePath = %q, want %q", got, want)
				}
			},
		},
		"postgres URL and password file": {
			env: map[string]string{
				"GITEE_MIRROR_DATABASE_URL":           "postgres://gm@db.internal:5432/gm?sslmode=verify-full",
				"GITEE_MIRROR_DATABASE_PASSWORD_FILE": secretFile,
				"GITEE_MIRROR_SECRET_KEY":             testKey,
			},
			check: func(t *testing.T, c *config.Config) {
				if got, want := c.DatabaseURL, "postgres://gm@db.internal:5432/gm?sslmode=verify-full"; got != want {
					t.Errorf("DatabaseURL = %q, want %q", got, want)
				}
				if c.DatabasePath != "" {
					t.Errorf("DatabasePath = %q, want none for Postgres", c.DatabasePath)
				}
				if got := c.DatabasePassword.Reveal(); got != "from-a-file" {
					t.Errorf("DatabasePassword = %q, want the file's", got)
				}
			},
		},
		"full App credentials": {
			env: map[string]string{
				"GITEE_MIRROR_APP_ID":              "12345",
				"GITEE_MIRROR_PRIVATE_KEY_FILE":    keyFile,
				"GITEE_MIRROR_WEBHOOK_SECRET_FILE": secretFile,
			},
			check: func(t *testing.T, c *config.Config) {
				if !c.AppConfigured() {
					t.Errorf("AppConfigured = false; missing %v", c.MissingApp())
				}
				if c.AppID != 12345 {
					t.Errorf("AppID = %d", c.AppID)
				}
				if got := c.WebhookSecret.Reveal(); got != "from-a-file" {
					t.Errorf("WebhookSecret = %q, want the file's content without the newline", got)
				}
				if !strings.HasPrefix(c.PrivateKey.Reveal(), "-----BEGIN RSA PRIVATE KEY-----\n") {
					t.Errorf("PrivateKey not read from the file")
				}
			},
		},
		"private key with literal \\n": {
			env: map[string]string{"GITEE_MIRROR_PRIVATE_KEY": strings.ReplaceAll(testPEM, "\n", `\n`)},
			check: func(t *testing.T, c *config.Config) {
				if !strings.Contains(c.PrivateKey.Reveal(), "-----\nMII") {
					t.Errorf("literal \\n not turned into newlines")
				}
			},
		},
		"enterprise server and local Gitee": {
			env: map[string]string{
				"GITEE_MIRROR_GITHUB_API_URL": "https://ghe.example.com/api/v3",
				"GITEE_MIRROR_GITHUB_URL":     "https://ghe.example.com/",
				"GITEE_MIRROR_GITEE_API_URL":  "http://127.0.0.1:9999/api/v5/",
				"GITEE_MIRROR_ALLOW_HTTP":     "true",
			},
			check: func(t *testing.T, c *config.Config) {
				if got, want := c.PlainHTTP(), []string{"GITEE_MIRROR_GITEE_API_URL", "GITEE_MIRROR_GITEE_URL"}; !slices.Equal(got, want) {
					t.Errorf("PlainHTTP = %v, want %v", got, want)
				}
				for _, ck := range []struct{ got, want string }{
					{c.GitHubAPIURL, "https://ghe.example.com/api/v3/"},
					{c.GitHubURL, "https://ghe.example.com"},
					{c.GiteeAPIURL, "http://127.0.0.1:9999/api/v5"},
					{c.GiteeURL, "http://127.0.0.1:9999"},
				} {
					if ck.got != ck.want {
						t.Errorf("got %q, want %q", ck.got, ck.want)
					}
				}
			},
		},
		"tuning": {
			env: map[string]string{
				"GITEE_MIRROR_MAX_FAILURES":       "3",
				"GITEE_MIRROR_SYNC_TIMEOUT":       "90s",
				"GITEE_MIRROR_RECONCILE_INTERVAL": "1h",
				"GITEE_MIRROR_SYNC_SPACING":       "250ms",
				"GITEE_MIRROR_WEBHOOK_MAX_BYTES":  "1MiB",
				"GITEE_MIRROR_LOG_LEVEL":          "debug",
				"GITEE_MIRROR_LOG_FORMAT":         "JSON",
				"GITEE_MIRROR_LISTEN_ADDR":        "127.0.0.1:0",
				"GITEE_MIRROR_PUBLIC_URL":         "https://mirror.example.com/",
			},
			check: func(t *testing.T, c *config.Config) {
				if c.MaxFailures != 3 || c.SyncTimeout != 90*time.Second || c.ReconcileInterval != time.Hour ||
					c.SyncSpacing != 250*time.Millisecond || c.WebhookMaxBytes != 1<<20 || c.LogLevel != slog.LevelDebug || c.LogFormat != "json" ||
					c.ListenAddr != "127.0.0.1:0" || c.PublicURL != "https://mirror.example.com" {
					t.Errorf("got %v", c)
				}
			},
		},
		"sync spacing off": {
			env: map[string]string{"GITEE_MIRROR_SYNC_SPACING": "0s"},
			check: func(t *testing.T, c *config.Config) {
				if c.SyncSpacing != 0 {
					t.Errorf("SyncSpacing = %s, want 0", c.SyncSpacing)
				}
			},
		},
		"plain byte count": {
			env: map[string]string{"GITEE_MIRROR_WEBHOOK_MAX_BYTES": "100000"},
			check: func(t *testing.T, c *config.Config) {
				if c.WebhookMaxBytes != 100000 {
					t.Errorf("WebhookMaxBytes = %d", c.WebhookMaxBytes)
				}
			},
		},
		"secret key": {
			env: map[string]string{"GITEE_MIRROR_SECRET_KEY": strings.Repeat("ab", 32)},
			check: func(t *testing.T, c *config.Config) {
				if got := len(c.SecretKeyBytes()); got != 32 {
					t.Errorf("key is %d bytes", got)
				}
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := config.Load(env(tc.env))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			tc.check(t, c)
		})
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	secretFile := writeFile(t, "s3cret-value")
	tests := map[string]struct {
		env  map[string]string
		want []string // each must be in the error
	}{
		"postgres bad URL":     {map[string]string{"GITEE_MIRROR_DATABASE_URL": "postgres://u:pw-canary%zz@db/gm"}, []string{"GITEE_MIRROR_DATABASE_URL", "postgres://"}},
		"password twice":       {map[string]string{"GITEE_MIRROR_DATABASE_URL": "postgres://u:pw-canary@db/gm", "GITEE_MIRROR_DATABASE_PASSWORD": "pw-canary"}, []string{"GITEE_MIRROR_DATABASE_PASSWORD", "set one"}},
		"postgres without key": {map[string]string{"GITEE_MIRROR_DATABASE_URL": "postgres://u:pw-canary@db/gm"}, []string{"GITEE_MIRROR_DATABASE_URL", "GITEE_MIRROR_SECRET_KEY", "every replica"}},
		"password for sqlite":  {map[string]string{"GITEE_MIRROR_DATABASE_PASSWORD": "pw-canary"}, []string{"GITEE_MIRROR_DATABASE_PASSWORD", "postgres://"}},
		"mysql":                {map[string]string{"GITEE_MIRROR_DATABASE_URL": "mysql://db"}, []string{"GITEE_MIRROR_DATABASE_URL", "mysql"}},
		"bare path":            {map[string]string{"GITEE_MIRROR_DATABASE_URL": "/srv/db"}, []string{"GITEE_MIRROR_DATABASE_URL"}},
		"app id":               {map[string]string{"GITEE_MIRROR_APP_ID": "abc"}, []string{"GITEE_MIRROR_APP_ID"}},
		"negative app id":      {map[string]string{"GITEE_MIRROR_APP_ID": "-4"}, []string{"GITEE_MIRROR_APP_ID"}},
		"not a PEM":            {map[string]string{"GITEE_MIRROR_PRIVATE_KEY": "pw-canary"}, []string{"GITEE_MIRROR_PRIVATE_KEY", "PEM"}},
		"both and file":        {map[string]string{"GITEE_MIRROR_WEBHOOK_SECRET": "pw-canary", "GITEE_MIRROR_WEBHOOK_SECRET_FILE": secretFile}, []string{"GITEE_MIRROR_WEBHOOK_SECRET", "set one"}},
		"missing file":         {map[string]string{"GITEE_MIRROR_ADMIN_TOKEN_FILE": "/nonexistent/token"}, []string{"GITEE_MIRROR_ADMIN_TOKEN"}},
		"short admin token":    {map[string]string{"GITEE_MIRROR_ADMIN_TOKEN": "pw-canary"}, []string{"GITEE_MIRROR_ADMIN_TOKEN", "16 to 256"}},
		"bad secret key":       {map[string]string{"GITEE_MIRROR_SECRET_KEY": "pw-canary"}, []string{"GITEE_MIRROR_SECRET_KEY"}},
		"listen":               {map[string]string{"GITEE_MIRROR_LISTEN_ADDR": "8080"}, []string{"GITEE_MIRROR_LISTEN_ADDR"}},
		"public url":           {map[string]string{"GITEE_MIRROR_PUBLIC_URL": "mirror.example.com"}, []string{"GITEE_MIRROR_PUBLIC_URL"}},
		"http GitHub":          {map[string]string{"GITEE_MIRROR_GITHUB_API_URL": "http://ghe.example.com/api/v3/"}, []string{"GITEE_MIRROR_GITHUB_API_URL", "https"}},
		"loopback http":        {map[string]string{"GITEE_MIRROR_GITEE_API_URL": "http://127.0.0.1:9999/api/v5"}, []string{"GITEE_MIRROR_GITEE_API_URL", "https", "GITEE_MIRROR_ALLOW_HTTP=true"}},
		"http opt-in typo":     {map[string]string{"GITEE_MIRROR_ALLOW_HTTP": "sure"}, []string{"GITEE_MIRROR_ALLOW_HTTP", "true or false"}},
		"Gitee query":          {map[string]string{"GITEE_MIRROR_GITEE_API_URL": "https://gitee.com/api/v5?x=1"}, []string{"GITEE_MIRROR_GITEE_API_URL"}},
		"Gitee URL":            {map[string]string{"GITEE_MIRROR_GITEE_URL": "ftp://gitee.com"}, []string{"GITEE_MIRROR_GITEE_URL"}},
		"GitHub URL creds":     {map[string]string{"GITEE_MIRROR_GITHUB_URL": "https://u:pw-canary@github.com"}, []string{"GITEE_MIRROR_GITHUB_URL"}},
		"max failures":         {map[string]string{"GITEE_MIRROR_MAX_FAILURES": "0"}, []string{"GITEE_MIRROR_MAX_FAILURES"}},
		"sync timeout":         {map[string]string{"GITEE_MIRROR_SYNC_TIMEOUT": "30"}, []string{"GITEE_MIRROR_SYNC_TIMEOUT"}},
		"reconcile":            {map[string]string{"GITEE_MIRROR_RECONCILE_INTERVAL": "-1m"}, []string{"GITEE_MIRROR_RECONCILE_INTERVAL"}},
		"sync spacing":         {map[string]string{"GITEE_MIRROR_SYNC_SPACING": "1"}, []string{"GITEE_MIRROR_SYNC_SPACING"}},
		"body cap":             {map[string]string{"GITEE_MIRROR_WEBHOOK_MAX_BYTES": "lots"}, []string{"GITEE_MIRROR_WEBHOOK_MAX_BYTES"}},
		"log level":            {map[string]string{"GITEE_MIRROR_LOG_LEVEL": "loud"}, []string{"GITEE_MIRROR_LOG_LEVEL"}},
		"shutdown":             {map[string]string{"GITEE_MIRROR_SHUTDOWN_TIMEOUT": "0s"}, []string{"GITEE_MIRROR_SHUTDOWN_TIMEOUT"}},
		"log format":           {map[string]string{"GITEE_MIRROR_LOG_FORMAT": "xml"}, []string{"GITEE_MIRROR_LOG_FORMAT"}},
		"several at once": {map[string]string{"GITEE_MIRROR_LOG_FORMAT": "xml", "GITEE_MIRROR_APP_ID": "x"},
			[]string{"GITEE_MIRROR_LOG_FORMAT", "GITEE_MIRROR_APP_ID"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := config.Load(env(tc.env))
			if err == nil {
				t.Fatalf("Load succeeded: %v", c)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "pw-canary") || strings.Contains(err.Error(), "s3cret-value") {
				t.Errorf("error repeats a secret: %q", err)
			}
		})
	}
}

// TestDatabasePasswordNeverPrinted: a password given in the Postgres URL
// (either way libpq takes one) moves out of DatabaseURL, so no output of the
// configuration holds it.
// testKey is a valid GITEE_MIRROR_SECRET_KEY (32 bytes, base64).
const testKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

func TestDatabasePasswordNeverPrinted(t *testing.T) {
	t.Parallel()
	const canary = "canary-db-pw-91c2"
	for name, raw := range map[string]string{
		"user part": "postgres://gm:" + canary + "@db:5432/gm?sslmode=require",
		"query":     "postgres://gm@db:5432/gm?password=" + canary + "&sslmode=require",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := config.Load(env(map[string]string{"GITEE_MIRROR_DATABASE_URL": raw, "GITEE_MIRROR_SECRET_KEY": testKey}))
			if err != nil {
				t.Fatal(err)
			}
			if c.DatabasePassword.Reveal() != canary {
				t.Errorf("DatabasePassword = %q, want the URL's", c.DatabasePassword.Reveal())
			}
			if got, want := c.DatabaseURL, "postgres://gm@db:5432/gm?sslmode=require"; got != want {
				t.Errorf("DatabaseURL = %q, want %q", got, want)
			}
			var logged bytes.Buffer
			slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "config", c)
			js, _ := json.Marshal(c)
			for out, s := range map[string]string{"String": c.String(), "%#v": fmt.Sprintf("%#v", *c), "slog": logged.String(), "json": string(js)} {
				if strings.Contains(s, canary) {
					t.Errorf("%s prints the database password: %s", out, s)
				}
			}
		})
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	t.Parallel()
	const canary = "canary-7f3a9c-secret"
	c, err := config.Load(env(map[string]string{
		"GITEE_MIRROR_APP_ID":         "1",
		"GITEE_MIRROR_PRIVATE_KEY":    "-----BEGIN RSA PRIVATE KEY-----\n" + canary + "\n-----END RSA PRIVATE KEY-----",
		"GITEE_MIRROR_WEBHOOK_SECRET": canary,
		"GITEE_MIRROR_ADMIN_TOKEN":    canary + canary,
	}))
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "config", c, "secret", c.WebhookSecret)
	js, _ := json.Marshal(c)
	outputs := map[string]string{
		"String":  c.String(),
		"%v":      fmt.Sprintf("%v", c),
		"%+v":     fmt.Sprintf("%+v", *c),
		"%#v":     fmt.Sprintf("%#v", *c),
		"%s key":  fmt.Sprintf("%s", c.PrivateKey),
		"%x":      fmt.Sprintf("%x", c.WebhookSecret),
		"%q":      fmt.Sprintf("%q", c.AdminToken),
		"%#v key": fmt.Sprintf("%#v", c.WebhookSecret),
		"slog":    logged.String(),
		"json":    string(js),
	}
	hexCanary := fmt.Sprintf("%x", canary)
	for name, out := range outputs {
		if strings.Contains(out, canary) || strings.Contains(out, hexCanary) {
			t.Errorf("%s prints a secret: %s", name, out)
		}
	}
	if !strings.Contains(c.String(), "webhook_secret=[redacted]") {
		t.Errorf("String does not say the secret is set: %s", c.String())
	}
}

func TestDocListsEveryVariable(t *testing.T) {
	t.Parallel()
	doc := config.Doc()
	for _, v := range config.Vars() {
		if !strings.Contains(doc, "`"+v.Name+"`") {
			t.Errorf("Doc lacks %s", v.Name)
		}
		if v.Doc == "" {
			t.Errorf("%s has no description", v.Name)
		}
	}
	for _, name := range []string{"GITEE_MIRROR_PRIVATE_KEY_FILE", "GITEE_MIRROR_SECRET_KEY_FILE", "GITEE_MIRROR_ADMIN_TOKEN_FILE"} {
		if !strings.Contains(doc, name) {
			t.Errorf("Doc lacks %s", name)
		}
	}
}
