package config

import (
	"strconv"

	"github.com/gitee-mirror/gitee-mirror/internal/secret"
)

// Variable names.
const (
	EnvListenAddr        = Prefix + "LISTEN_ADDR"
	EnvPublicURL         = Prefix + "PUBLIC_URL"
	EnvDataDir           = Prefix + "DATA_DIR"
	EnvDatabaseURL       = Prefix + "DATABASE_URL"
	EnvDatabasePassword  = Prefix + "DATABASE_PASSWORD"
	EnvAppID             = Prefix + "APP_ID"
	EnvPrivateKey        = Prefix + "PRIVATE_KEY"
	EnvWebhookSecret     = Prefix + "WEBHOOK_SECRET"
	EnvSecretKey         = secret.EnvKey
	EnvGitHubAPIURL      = Prefix + "GITHUB_API_URL"
	EnvGitHubURL         = Prefix + "GITHUB_URL"
	EnvGiteeAPIURL       = Prefix + "GITEE_API_URL"
	EnvGiteeURL          = Prefix + "GITEE_URL"
	EnvAllowHTTP         = Prefix + "ALLOW_HTTP"
	EnvMaxFailures       = Prefix + "MAX_FAILURES"
	EnvSyncTimeout       = Prefix + "SYNC_TIMEOUT"
	EnvReconcileInterval = Prefix + "RECONCILE_INTERVAL"
	EnvSyncSpacing       = Prefix + "SYNC_SPACING"
	EnvSyncStartInterval = Prefix + "SYNC_START_INTERVAL"
	EnvWebhookMaxBytes   = Prefix + "WEBHOOK_MAX_BYTES"
	EnvAdminToken        = Prefix + "ADMIN_TOKEN"
	EnvShutdownTimeout   = Prefix + "SHUTDOWN_TIMEOUT"
	EnvLeaseTTL          = Prefix + "LEASE_TTL"
	EnvLeaseRenew        = Prefix + "LEASE_RENEW"
	EnvLogLevel          = Prefix + "LOG_LEVEL"
	EnvLogFormat         = Prefix + "LOG_FORMAT"
)

// Var documents one variable.
type Var struct {
	Name    string
	Default string // as people read it; "" when there is none
	// File: the value may instead be read from the file named by Name+"_FILE".
	File bool
	// Secret: the value is never printed.
	Secret bool
	Doc    string
	// Allowed is the range of a bounded value, as people read it ("1m to
	// 24h"); "" for the others.
	Allowed string
}

// Vars lists every variable Load reads, in the order Doc shows them.
func Vars() []Var {
	vs := make([]Var, len(table))
	for i, v := range table {
		vs[i] = v.Var
	}
	return vs
}

// variable is a Var with the code that sets its field. set gets the raw
// value ("" when unset, after reading _FILE).
type variable struct {
	Var
	set func(c *Config, raw string) error
}

// table is the one list Load and Doc share. Order matters: a default
// derived from another variable comes after it.
var table = []variable{
	{Var{Name: EnvListenAddr, Default: DefaultListenAddr,
		Doc: "Address the HTTP server listens on (`host:port`)."}, setListenAddr},
	{Var{Name: EnvPublicURL,
		Doc: "URL people and GitHub reach the server at, e.g. `https://mirror.example.com`; used in the webhook URLs the pages show and in the Gitee webhooks the App registers for pull and two-way mirrors set up in `.github/gitee-mirror.yml` (unset: none are registered for those, and they catch up at each reconcile). Unset: the pages, and the Gitee webhooks the settings page registers, use the request's host."}, setPublicURL},
	{Var{Name: EnvDataDir, Default: DefaultDataDir,
		Doc: "Directory for the database and other state; created if missing."}, setDataDir},
	{Var{Name: EnvDatabaseURL, Default: "sqlite://<data dir>/" + DefaultDatabaseFile,
		Doc: "Database. `sqlite://PATH` (one App): webhook deliveries wait in a second file beside it, `PATH` with `.db` replaced by `.inbox.db`: back up both. `postgres://USER@HOST:PORT/DB?sslmode=verify-full` (several replicas, one database; libpq's URL settings, TLS included)."}, setDatabaseURL},
	{Var{Name: EnvDatabasePassword, File: true, Secret: true,
		Doc: "The Postgres password, instead of one in the URL. Prefer `_FILE`."}, setDatabasePassword},
	{Var{Name: EnvAppID,
		Doc: "The GitHub App's id (App settings page, \"App ID\")."}, setAppID},
	{Var{Name: EnvPrivateKey, File: true, Secret: true,
		Doc: "The GitHub App's private key, PEM (App settings page, \"Private keys\" → \"Generate a private key\"). Prefer `_FILE` with the downloaded `.pem`."}, setPrivateKey},
	{Var{Name: EnvWebhookSecret, File: true, Secret: true,
		Doc: "The GitHub App's webhook secret: the same value as \"Webhook secret\" on the App settings page. Deliveries without a valid signature get 401."}, setWebhookSecret},
	{Var{Name: EnvOAuthClientID,
		Doc: "The GitHub App's OAuth client id (App settings page, \"Client ID\"), for signing in to the settings pages. Not needed after registering the App from the front page."}, setOAuthClientID},
	{Var{Name: EnvOAuthClientSecret, File: true, Secret: true,
		Doc: "The GitHub App's OAuth client secret (App settings page, \"Client secrets\")."}, setOAuthClientSecret},
	{Var{Name: EnvSecretKey, File: true, Secret: true,
		Doc: "Key that encrypts stored Gitee tokens (AES-256-GCM): 32 random bytes as base64 or hex, e.g. `openssl rand -base64 32`. Without it the App refuses to store tokens. Keep it: stored tokens cannot be read without it."}, nil},
	{Var{Name: EnvAllowHTTP, Default: "false",
		Doc: "`true` lets the GitHub and Gitee URLs below be plain `http://` (a local forge, tests on loopback); a warning is logged at start, since tokens then cross the network unencrypted. Otherwise they must be `https://`."}, setAllowHTTP},
	{Var{Name: EnvGitHubAPIURL, Default: DefaultGitHubAPIURL,
		Doc: "GitHub REST API base; for GitHub Enterprise Server `https://HOST/api/v3/`."}, setGitHubAPIURL},
	{Var{Name: EnvGitHubURL, Default: DefaultGitHubURL,
		Doc: "GitHub web and Git base, e.g. `https://HOST` for GitHub Enterprise Server."}, setGitHubURL},
	{Var{Name: EnvGiteeAPIURL, Default: DefaultGiteeAPIURL,
		Doc: "Gitee OpenAPI v5 base, for a Gitee-compatible host."}, setGiteeAPIURL},
	{Var{Name: EnvGiteeURL, Default: "https://gitee.com",
		Doc: "Gitee web and Git base. Unset: the scheme and host of the Gitee API URL."}, setGiteeURL},
	{Var{Name: EnvMaxFailures, Allowed: rangeInt(MinMaxFailures, MaxMaxFailures), Default: strconv.Itoa(DefaultMaxFailures),
		Doc: "Consecutive failed syncs after which a mirror is paused (until a person resumes it or a new push arrives)."}, setMaxFailures},
	{Var{Name: EnvSyncTimeout, Allowed: durationRange(MinSyncTimeout, MaxSyncTimeout), Default: shortDuration(DefaultSyncTimeout),
		Doc: "Time limit of one sync (Go duration: `90s`, `30m`, `1h`)."}, setSyncTimeout},
	{Var{Name: EnvReconcileInterval, Allowed: durationRange(MinReconcileInterval, MaxReconcileInterval), Default: shortDuration(DefaultReconcileInterval),
		Doc: "How often every active mirror's refs are compared, to catch missed webhooks. The checks are spread evenly over the interval, each mirror at its own point of it (a push is never queued behind them)."}, setReconcileInterval},
	{Var{Name: EnvSyncSpacing, Allowed: durationRange(MinSyncSpacing, MaxSyncSpacing), Default: shortDuration(DefaultSyncSpacing),
		Doc: "The least time between the starts of two syncs of one mirror, on any replica. A push to a mirror whose last sync started longer ago, with none running or waiting, is synced at once; pushes sooner, or while it syncs, are served together by one more sync this long after the last one started (pushes meanwhile join it): under a storm of pushes to one repository (a bot, `git push --tags` with hundreds of tags) the mirror syncs about once this long instead of back to back. `0s`: none, the next sync starts as soon as the running one ends."}, setSyncSpacing},
	{Var{Name: EnvSyncStartInterval, Allowed: durationRange(MinSyncStartInterval, MaxSyncStartInterval), Default: shortDuration(DefaultSyncStartInterval),
		Doc: "The least time between two syncs starting on one replica, whatever their mirrors. Syncs that become due together (many repositories pushed in the same instant, a queue catching up after a restart) start one after another this far apart instead of all at once, so that their start does not take the cores from the webhook intake; a sync due alone starts at once, and the syncs of a reconcile round, which spreads them over its interval itself, are not held. With the default, a replica starts at most 10 syncs a second for pushes and other requests. `0s`: none, every free worker starts at once."}, setSyncStartInterval},
	{Var{Name: EnvWebhookMaxBytes, Allowed: sizeRange(MinWebhookMaxBytes, MaxWebhookMaxBytes), Default: shortSize(DefaultWebhookMaxBytes),
		Doc: "Largest webhook body accepted (bytes, or with a `KiB`/`MiB` suffix); larger ones get 413. GitHub caps payloads at 25 MB."}, setWebhookMaxBytes},
	{Var{Name: EnvAdminToken, Allowed: rangeInt(MinAdminTokenLen, MaxAdminTokenLen) + " characters", File: true, Secret: true,
		Doc: "Bearer token for the `/admin/…` endpoints (listing mirrors, setting Gitee tokens, sync, pause, resume) and the job queue at `/admin/queue/`. Unset: those are disabled."}, setAdminToken},
	{Var{Name: EnvShutdownTimeout, Allowed: durationRange(MinShutdownTimeout, MaxShutdownTimeout), Default: shortDuration(DefaultShutdownTimeout),
		Doc: "On SIGTERM, how long running syncs may take to finish before they are stopped and handed back to the queue (they run again after the restart)."}, setShutdownTimeout},
	{Var{Name: EnvLeaseTTL, Allowed: durationRange(MinLeaseTTL, MaxLeaseTTL), Default: shortDuration(DefaultLeaseTTL),
		Doc: "A running sync holds a lease on its mirror that lapses this long after its last renewal: when the App (or a replica) dies mid-sync, the mirror is synced again by the restarted App or another replica this long after the last renewal, plus a few seconds. Replicas' clocks need not agree (on Postgres the database's clock counts)."}, setLeaseTTL},
	{Var{Name: EnvLeaseRenew, Allowed: durationRange(MinLeaseRenew, MaxLeaseRenew) + ", at most half the lease TTL", Default: "a third of the lease TTL (" + shortDuration(DefaultLeaseTTL/3) + ")",
		Doc: "How often a running sync renews its lease."}, setLeaseRenew},
	{Var{Name: EnvLogLevel, Default: "info",
		Doc: "`debug`, `info`, `warn` or `error`."}, setLogLevel},
	{Var{Name: EnvLogFormat, Default: "text",
		Doc: "`text` or `json`."}, setLogFormat},
}
