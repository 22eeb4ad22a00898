package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/secret"
)

// Load reads the configuration through getenv (os.Getenv in production).
// Every malformed variable is reported, each error naming its variable;
// values of secrets never appear in errors.
func Load(getenv func(string) string) (*Config, error) {
	c := &Config{}
	var errs []error
	for _, v := range table {
		if v.Name == EnvSecretKey {
			key, err := secret.LoadKey(getenv)
			if err != nil {
				errs = append(errs, err)
			}
			c.SecretKey = Secret(key)
			continue
		}
		raw, err := lookup(getenv, v.Var)
		if err == nil {
			err = v.set(c, raw)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", v.Name, err))
		}
	}
	if c.DatabaseURL != "" && c.DatabasePath == "" && !c.SecretKey.IsSet() {
		errs = append(errs, fmt.Errorf("%s: several replicas share a Postgres database: set %s, the same on every replica (sign-ins and stored tokens need it)", EnvDatabaseURL, EnvSecretKey))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// lookup returns a variable's value, or the content of its _FILE. Setting
// both is an error: one of them would be ignored silently.
func lookup(getenv func(string) string, v Var) (string, error) {
	val := getenv(v.Name)
	if !v.File {
		return strings.TrimSpace(val), nil
	}
	file := getenv(v.Name + "_FILE")
	switch {
	case val != "" && file != "":
		return "", fmt.Errorf("both it and %s_FILE are set: set one", v.Name)
	case file != "":
		b, err := readCapped(file, maxFileBytes)
		if err != nil {
			// The path is not secret; the content never gets here.
			return "", fmt.Errorf("error reading %s_FILE: %w", v.Name, err)
		}
		s := strings.TrimRight(string(b), "\r\n")
		if s == "" {
			return "", fmt.Errorf("the file named by %s_FILE is empty", v.Name)
		}
		return s, nil
	}
	return val, nil
}

func setListenAddr(c *Config, raw string) error {
	if raw == "" {
		raw = DefaultListenAddr
	}
	if _, port, err := net.SplitHostPort(raw); err != nil || port == "" {
		return fmt.Errorf("%.80q is not host:port (e.g. :8080 or 127.0.0.1:8080)", raw)
	}
	c.ListenAddr = raw
	return nil
}

func setPublicURL(c *Config, raw string) error {
	if raw == "" {
		return nil
	}
	u, err := baseURL(raw, false, false)
	if err != nil {
		return err
	}
	c.PublicURL = strings.TrimSuffix(u.String(), "/")
	return nil
}

func setDataDir(c *Config, raw string) error {
	if raw == "" {
		raw = DefaultDataDir
	}
	c.DataDir = filepath.Clean(raw)
	return nil
}

func setDatabaseURL(c *Config, raw string) error {
	if raw == "" {
		c.DatabasePath = filepath.Join(c.DataDir, DefaultDatabaseFile)
		c.DatabaseURL = "sqlite://" + c.DatabasePath
		return nil
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	switch {
	case !ok:
		return errors.New("not a URL: want sqlite://PATH or postgres://USER@HOST/DB")
	case scheme == "postgres" || scheme == "postgresql":
		return setPostgresURL(c, raw)
	case scheme != "sqlite":
		return fmt.Errorf("unknown database scheme %.40q: use sqlite://PATH or postgres://…", scheme)
	case rest == "" || strings.ContainsAny(rest, "?#"):
		return errors.New("want sqlite://PATH with a file path and no query")
	}
	c.DatabaseURL, c.DatabasePath = raw, filepath.Clean(rest)
	return nil
}

// setPostgresURL keeps the URL less its password (in the user part or
// libpq's password= setting), which goes to DatabasePassword, so that the
// URL can be shown. The URL itself is never repeated in an error.
func setPostgresURL(c *Config, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a valid postgres:// URL (escape special characters of the user and password with %XX)")
	}
	if pw, ok := u.User.Password(); ok {
		c.DatabasePassword = Secret(pw)
		u.User = url.User(u.User.Username())
	}
	if q := u.Query(); q.Has("password") {
		c.DatabasePassword = Secret(q.Get("password"))
		q.Del("password")
		u.RawQuery = q.Encode()
	}
	c.DatabaseURL, c.DatabasePath = u.String(), ""
	return nil
}

func setDatabasePassword(c *Config, raw string) error {
	switch {
	case raw == "":
		return nil
	case c.DatabasePath != "":
		return errors.New("set only with a postgres:// " + EnvDatabaseURL)
	case c.DatabasePassword.IsSet():
		return errors.New(EnvDatabaseURL + " holds a password too: set one")
	}
	c.DatabasePassword = Secret(raw)
	return nil
}

func setAppID(c *Config, raw string) error {
	if raw == "" {
		return nil
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("%.80q is not a positive number (the App ID on the App's settings page)", raw)
	}
	c.AppID = id
	return nil
}

func setPrivateKey(c *Config, raw string) error {
	if raw == "" {
		return nil
	}
	// Keys pasted into one-line variables often carry literal \n.
	if !strings.Contains(raw, "\n") && strings.Contains(raw, `\n`) {
		raw = strings.ReplaceAll(raw, `\n`, "\n")
	}
	if !strings.Contains(raw, "-----BEGIN ") || !strings.Contains(raw, "PRIVATE KEY-----") {
		return errors.New("not a PEM private key: use the .pem file GitHub generated for the App")
	}
	c.PrivateKey = Secret(raw + "\n")
	return nil
}

func setWebhookSecret(c *Config, raw string) error {
	c.WebhookSecret = Secret(raw)
	return nil
}

func setAdminToken(c *Config, raw string) error {
	if raw != "" && (len(raw) < MinAdminTokenLen || len(raw) > MaxAdminTokenLen) {
		// The length only: the token itself is never repeated.
		return fmt.Errorf("%d characters is out of range: want %d to %d characters of random text, e.g. `openssl rand -hex 32`", len(raw), MinAdminTokenLen, MaxAdminTokenLen)
	}
	c.AdminToken = Secret(raw)
	return nil
}

func setAllowHTTP(c *Config, raw string) error {
	switch strings.ToLower(raw) {
	case "", "false", "0", "no":
		c.AllowHTTP = false
	case "true", "1", "yes":
		c.AllowHTTP = true
	default:
		return fmt.Errorf("%.80q is not a boolean: want true or false", raw)
	}
	return nil
}

func setGitHubAPIURL(c *Config, raw string) error {
	if raw == "" {
		raw = DefaultGitHubAPIURL
	}
	u, err := baseURL(raw, true, c.AllowHTTP)
	if err != nil {
		return err
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	c.GitHubAPIURL = u.String()
	return nil
}

func setGitHubURL(c *Config, raw string) error {
	if raw == "" {
		raw = DefaultGitHubURL
	}
	u, err := baseURL(raw, true, c.AllowHTTP)
	if err != nil {
		return err
	}
	c.GitHubURL = strings.TrimSuffix(u.String(), "/")
	return nil
}

func setGiteeAPIURL(c *Config, raw string) error {
	if raw == "" {
		raw = DefaultGiteeAPIURL
	}
	u, err := baseURL(raw, true, c.AllowHTTP)
	if err != nil {
		return err
	}
	c.GiteeAPIURL = strings.TrimSuffix(u.String(), "/")
	return nil
}

func setGiteeURL(c *Config, raw string) error {
	if raw == "" {
		if c.GiteeAPIURL == "" { // the API URL was malformed: reported there
			return nil
		}
		u, _ := url.Parse(c.GiteeAPIURL)
		c.GiteeURL = u.Scheme + "://" + u.Host
		return nil
	}
	u, err := baseURL(raw, true, c.AllowHTTP)
	if err != nil {
		return err
	}
	c.GiteeURL = strings.TrimSuffix(u.String(), "/")
	return nil
}

func setMaxFailures(c *Config, raw string) (err error) {
	c.MaxFailures, err = intIn(raw, DefaultMaxFailures, MinMaxFailures, MaxMaxFailures)
	return err
}

func setSyncTimeout(c *Config, raw string) (err error) {
	c.SyncTimeout, err = durationIn(raw, DefaultSyncTimeout, MinSyncTimeout, MaxSyncTimeout)
	return err
}

func setReconcileInterval(c *Config, raw string) (err error) {
	c.ReconcileInterval, err = durationIn(raw, DefaultReconcileInterval, MinReconcileInterval, MaxReconcileInterval)
	return err
}

func setSyncSpacing(c *Config, raw string) (err error) {
	c.SyncSpacing, err = durationIn(raw, DefaultSyncSpacing, MinSyncSpacing, MaxSyncSpacing)
	return err
}

func setSyncStartInterval(c *Config, raw string) (err error) {
	c.SyncStartInterval, err = durationIn(raw, DefaultSyncStartInterval, MinSyncStartInterval, MaxSyncStartInterval)
	return err
}

func setShutdownTimeout(c *Config, raw string) (err error) {
	c.ShutdownTimeout, err = durationIn(raw, DefaultShutdownTimeout, MinShutdownTimeout, MaxShutdownTimeout)
	return err
}

func setLeaseTTL(c *Config, raw string) (err error) {
	c.LeaseTTL, err = durationIn(raw, DefaultLeaseTTL, MinLeaseTTL, MaxLeaseTTL)
	return err
}

// setLeaseRenew defaults to a third of the lease TTL, and refuses more
// than half of it: one late renewal must not lose the lease.
func setLeaseRenew(c *Config, raw string) (err error) {
	def := max(MinLeaseRenew, c.LeaseTTL/3)
	c.LeaseRenew, err = durationIn(raw, def, MinLeaseRenew, MaxLeaseRenew)
	if err == nil && c.LeaseTTL > 0 && c.LeaseRenew > c.LeaseTTL/2 {
		err = fmt.Errorf("%s is more than half of %s (%s): one late renewal would lose the lease; want at most %s",
			shortDuration(c.LeaseRenew), EnvLeaseTTL, shortDuration(c.LeaseTTL), shortDuration(c.LeaseTTL/2))
	}
	return err
}

func setWebhookMaxBytes(c *Config, raw string) (err error) {
	c.WebhookMaxBytes, err = bytesIn(raw, DefaultWebhookMaxBytes, MinWebhookMaxBytes, MaxWebhookMaxBytes)
	return err
}

func setLogLevel(c *Config, raw string) error {
	if raw == "" {
		c.LogLevel = slog.LevelInfo
		return nil
	}
	if err := c.LogLevel.UnmarshalText([]byte(raw)); err != nil {
		return fmt.Errorf("%.80q is not a level: want debug, info, warn or error", raw)
	}
	return nil
}

func setLogFormat(c *Config, raw string) error {
	switch strings.ToLower(raw) {
	case "", "text":
		c.LogFormat = "text"
	case "json":
		c.LogFormat = "json"
	default:
		return fmt.Errorf("%.80q is not a format: want text or json", raw)
	}
	return nil
}

// readCapped reads a file of at most limit bytes.
func readCapped(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %s: name the file that holds only the value", path, shortSize(limit))
	}
	return b, nil
}
