// Package config reads the App's configuration from GITEE_MIRROR_*
// environment variables, strictly: a malformed value is an error naming the
// variable, never a silent default. Secrets may come from the variable or
// from a file named by the variable with a _FILE suffix; they are never
// printed (Config's String and LogValue redact them).
//
// Doc renders the variables as a Markdown table for the README.
package config

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// Prefix starts every variable's name.
const Prefix = "GITEE_MIRROR_"

// Defaults.
const (
	DefaultListenAddr        = ":8080"
	DefaultDataDir           = "./data"
	DefaultDatabaseFile      = "gitee-mirror.db"
	DefaultGitHubAPIURL      = "https://api.github.com/"
	DefaultGitHubURL         = "https://github.com"
	DefaultGiteeAPIURL       = "https://gitee.com/api/v5"
	DefaultMaxFailures       = 5
	DefaultSyncTimeout       = 30 * time.Minute
	DefaultReconcileInterval = 10 * time.Minute
	DefaultSyncSpacing       = time.Second
	DefaultSyncStartInterval = 100 * time.Millisecond
	DefaultShutdownTimeout   = 25 * time.Second
	DefaultLeaseTTL          = 30 * time.Second
	// DefaultWebhookMaxBytes is GitHub's payload cap (25 MiB).
	DefaultWebhookMaxBytes = 25 << 20
)

// Config is the App's configuration. Load fills every field; the zero value
// is not meant to be used.
type Config struct {
	// ListenAddr is where the HTTP server listens (host:port).
	ListenAddr string
	// PublicURL is how people and GitHub reach the server, without a
	// trailing slash; "" when unset (pages then use the request's host).
	PublicURL string
	// DataDir holds the SQLite database and other state.
	DataDir string
	// DatabaseURL is the database as configured (sqlite://PATH or
	// postgres://…), less a password, which Load moves to
	// DatabasePassword.
	DatabaseURL string
	// DatabasePath is the SQLite file of DatabaseURL; "" for Postgres.
	DatabasePath string
	// DatabasePassword is the Postgres password, kept out of the URL.
	DatabasePassword Secret

	// AppID is the GitHub App's id; 0 when unset.
	AppID int64
	// PrivateKey is the App's private key (PEM).
	PrivateKey Secret
	// WebhookSecret authenticates GitHub's webhook deliveries.
	WebhookSecret Secret
	// OAuthClientID and OAuthClientSecret sign people in to the settings
	// pages ("" when unset).
	OAuthClientID     string
	OAuthClientSecret Secret
	// SecretKey is the 32-byte key that encrypts stored tokens (empty:
	// the App refuses to store tokens).
	SecretKey Secret

	// AllowHTTP lets the site URLs below be plain http:// (tests, a local
	// forge). Off, they must be https://: tokens go to those hosts.
	AllowHTTP bool

	GitHubAPIURL string // REST API base, with a trailing slash
	GitHubURL    string // web and Git base, no trailing slash
	GiteeAPIURL  string // OpenAPI v5 base, no trailing slash
	GiteeURL     string // web and Git base, no trailing slash

	// MaxFailures is how many consecutive failed syncs pause a mirror.
	MaxFailures int
	// SyncTimeout bounds one sync.
	SyncTimeout time.Duration
	// ReconcileInterval is how often every mirror's refs are compared.
	ReconcileInterval time.Duration
	// SyncSpacing is the least time from the start of a mirror's sync to
	// the start of its follow-up (for pushes that arrived during it); 0:
	// none.
	SyncSpacing time.Duration
	// SyncStartInterval is the least time between two syncs starting on
	// one replica; 0: none.
	SyncStartInterval time.Duration
	// WebhookMaxBytes caps a webhook body; larger ones get 413.
	WebhookMaxBytes int64

	// AdminToken authorises the admin endpoints; empty disables them.
	AdminToken Secret
	// ShutdownTimeout is how long running syncs may take to finish on
	// shutdown before they are handed back to the queue.
	ShutdownTimeout time.Duration
	// LeaseTTL is how long a running sync's lease outlives its last
	// renewal; LeaseRenew how often the sync renews it.
	LeaseTTL   time.Duration
	LeaseRenew time.Duration

	LogLevel  slog.Level
	LogFormat string // "text" or "json"
}

// SecretKeyBytes returns the encryption key, nil when none is configured.
func (c *Config) SecretKeyBytes() []byte {
	if !c.SecretKey.IsSet() {
		return nil
	}
	return []byte(c.SecretKey.Reveal())
}

// AppConfigured reports whether the GitHub App credentials are all set.
func (c *Config) AppConfigured() bool { return len(c.MissingApp()) == 0 }

// MissingApp names the variables still needed for the GitHub App to work.
func (c *Config) MissingApp() []string {
	var m []string
	if c.AppID == 0 {
		m = append(m, EnvAppID)
	}
	if !c.PrivateKey.IsSet() {
		m = append(m, EnvPrivateKey+" (or "+EnvPrivateKey+"_FILE)")
	}
	if !c.WebhookSecret.IsSet() {
		m = append(m, EnvWebhookSecret+" (or "+EnvWebhookSecret+"_FILE)")
	}
	return m
}

// PlainHTTP names the site URLs that are plain http:// (possible only with
// AllowHTTP): tokens sent there cross the network unencrypted.
func (c *Config) PlainHTTP() []string {
	var names []string
	for _, u := range []struct{ name, url string }{
		{EnvGitHubAPIURL, c.GitHubAPIURL}, {EnvGitHubURL, c.GitHubURL},
		{EnvGiteeAPIURL, c.GiteeAPIURL}, {EnvGiteeURL, c.GiteeURL},
	} {
		if strings.HasPrefix(u.url, "http://") {
			names = append(names, u.name)
		}
	}
	return names
}

// fields lists the configuration as name/value pairs, secrets redacted.
func (c Config) fields() []slog.Attr {
	return []slog.Attr{
		slog.String("listen_addr", c.ListenAddr),
		slog.String("public_url", c.PublicURL),
		slog.String("data_dir", c.DataDir),
		slog.String("database_url", redactURL(c.DatabaseURL)),
		slog.String("database_password", c.DatabasePassword.String()),
		slog.Int64("app_id", c.AppID),
		slog.String("private_key", c.PrivateKey.String()),
		slog.String("webhook_secret", c.WebhookSecret.String()),
		slog.String("secret_key", c.SecretKey.String()),
		slog.String("oauth_client_id", c.OAuthClientID),
		slog.String("oauth_client_secret", c.OAuthClientSecret.String()),
		slog.Bool("allow_http", c.AllowHTTP),
		slog.String("github_api_url", c.GitHubAPIURL),
		slog.String("github_url", c.GitHubURL),
		slog.String("gitee_api_url", c.GiteeAPIURL),
		slog.String("gitee_url", c.GiteeURL),
		slog.Int("max_failures", c.MaxFailures),
		slog.Duration("sync_timeout", c.SyncTimeout),
		slog.Duration("reconcile_interval", c.ReconcileInterval),
		slog.Duration("sync_spacing", c.SyncSpacing),
		slog.Duration("sync_start_interval", c.SyncStartInterval),
		slog.Int64("webhook_max_bytes", c.WebhookMaxBytes),
		slog.String("admin_token", c.AdminToken.String()),
		slog.Duration("shutdown_timeout", c.ShutdownTimeout),
		slog.Duration("lease_ttl", c.LeaseTTL),
		slog.Duration("lease_renew", c.LeaseRenew),
		slog.String("log_level", c.LogLevel.String()),
		slog.String("log_format", c.LogFormat),
	}
}

// LogValue implements slog.LogValuer, secrets redacted.
func (c Config) LogValue() slog.Value { return slog.GroupValue(c.fields()...) }

// String lists the configuration, secrets redacted.
func (c Config) String() string {
	parts := make([]string, 0, 20)
	for _, a := range c.fields() {
		parts = append(parts, a.Key+"="+a.Value.String())
	}
	return strings.Join(parts, " ")
}

// GoString keeps %#v from printing secrets.
func (c Config) GoString() string { return "config.Config{" + c.String() + "}" }

// Format keeps every fmt verb on the redacted form.
func (c Config) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = fmt.Fprint(f, c.GoString())
		return
	}
	_, _ = fmt.Fprint(f, c.String())
}

// redactURL drops a password from a URL (a database URL may carry one).
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "[unparsable]"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
