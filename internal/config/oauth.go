package config

// OAuth client credentials of the GitHub App, for signing people in to the
// settings pages. After a one-click registration they come from the store
// instead.
const (
	EnvOAuthClientID     = Prefix + "OAUTH_CLIENT_ID"
	EnvOAuthClientSecret = Prefix + "OAUTH_CLIENT_SECRET"
)

func setOAuthClientID(c *Config, raw string) error {
	c.OAuthClientID = raw
	return nil
}

func setOAuthClientSecret(c *Config, raw string) error {
	c.OAuthClientSecret = Secret(raw)
	return nil
}
