package githubapp

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v62/github"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
)

// AppOptions configure an AppTransport. The zero value talks to github.com.
type AppOptions struct {
	// APIURL is the REST API base URL, as in Options.
	APIURL string
	// Transport is the base transport shared by every installation, so
	// connections are reused; default http.DefaultTransport.
	Transport http.RoundTripper
	// Retries and RetryBase, as in Options, for RepoToken.
	Retries   int
	RetryBase time.Duration
	// TokenPermissions are what RepoToken asks for; default contents: write
	// (metadata: read comes with every token). Add Workflows: "write" when
	// the App has that permission, or pushes that touch .github/workflows
	// are refused.
	TokenPermissions *github.InstallationPermissions
}

// AppTransport authenticates as a GitHub App: its private key is parsed
// once, and RepoToken mints installation tokens narrowed to one
// repository. It is safe for concurrent use.
type AppTransport struct {
	appID  int64
	apiURL string // API base without trailing slash, as ghinstallation wants it
	apps   *github.Client
	perms  github.InstallationPermissions
	retry  retrier
}

// NewAppTransport parses the App's private key (PEM, PKCS#1 as GitHub
// issues it, or PKCS#8) and returns the App's transports.
func NewAppTransport(appID int64, privateKeyPEM []byte, opts AppOptions) (*AppTransport, error) {
	if appID <= 0 {
		return nil, failure.New(failure.Invalid, "GitHub App id must be a positive number, not %d", appID)
	}
	key, err := parsePrivateKey(privateKeyPEM)
	if err != nil {
		return nil, err
	}
	// ghinstallation signs the JWT; answers are capped below it.
	base := capBodies(opts.Transport)
	atr := ghinstallation.NewAppsTransportFromPrivateKey(base, appID, key)
	apps, err := newGitHub(&http.Client{Transport: atr, CheckRedirect: sameHostRedirects}, opts.APIURL)
	if err != nil {
		return nil, err
	}
	a := &AppTransport{
		appID:  appID,
		apiURL: strings.TrimSuffix(apps.BaseURL.String(), "/"),
		apps:   apps,
		perms:  github.InstallationPermissions{Contents: github.String("write")},
		retry:  newRetrier(opts.Retries, opts.RetryBase),
	}
	atr.BaseURL = a.apiURL
	if opts.TokenPermissions != nil {
		a.perms = *opts.TokenPermissions
	}
	return a, nil
}

// parsePrivateKey reads an RSA key from PEM. Errors never quote the key.
func parsePrivateKey(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, failure.New(failure.Invalid, "GitHub App private key is not in PEM form: use the .pem file GitHub generated for the App")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k8, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, failure.New(failure.Invalid, "GitHub App private key cannot be parsed as an RSA key (PKCS#1 or PKCS#8): use the .pem file GitHub generated for the App")
	}
	k, ok := k8.(*rsa.PrivateKey)
	if !ok {
		return nil, failure.New(failure.Invalid, "GitHub App private key is not an RSA key: GitHub Apps sign with RS256")
	}
	return k, nil
}

// AppID is the App's id.
func (a *AppTransport) AppID() int64 { return a.appID }

// Apps is a go-github client authenticated as the App itself (a JWT signed
// RS256 per request), for /app endpoints.
func (a *AppTransport) Apps() *github.Client { return a.apps }

// InstallationClient is a Client acting as one installation: it mints
// tokens narrowed to one repository and the permissions of one kind of
// call (RepoToken, forge.RepoTokens), and makes no API call itself — an
// installation's own token would reach every repository with every
// permission of the installation. Call the API with a Client for a minted
// token (NewWithToken). Its APIURL is the App's unless opts sets one; its
// GitCredentials carry the user name for installation tokens but no token.
func (a *AppTransport) InstallationClient(installationID int64, opts Options) (*Client, error) {
	if opts.APIURL == "" {
		opts.APIURL = a.apiURL + "/"
	}
	hc := &http.Client{Transport: narrowOnly{installationID}, CheckRedirect: sameHostRedirects}
	c, err := New(hc, forge.Credentials{Username: GitUsername}, opts)
	if err != nil {
		return nil, err
	}
	c.app, c.installation = a, installationID
	return c, nil
}

// narrowOnly is the transport of an installation's Client: it refuses
// every request, so that no code path mints an unnarrowed token.
type narrowOnly struct{ installationID int64 }

// RoundTrip implements http.RoundTripper.
func (n narrowOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
	return nil, failure.New(failure.Internal, "installation %d's client makes no API call (%s %s): "+
		"mint a token for the one repository and the call's permissions (RepoToken) and call the API with it", n.installationID, req.Method, req.URL.Path)
}

// RepoToken mints an installation token for one repository, given by name
// ("name" or "owner/name"), with AppOptions.TokenPermissions. A new token
// lasts an hour; expires says until when. Mint one per push rather than
// reusing the installation transport's token, which may have one minute
// left.
func (a *AppTransport) RepoToken(ctx context.Context, installationID int64, repo string) (token string, expires time.Time, err error) {
	name := repo[strings.LastIndex(repo, "/")+1:]
	if !segment(name) {
		return "", time.Time{}, failure.New(failure.Invalid, "mint a GitHub token: %q is not a repository name", repo)
	}
	return a.mint(ctx, installationID, "repository "+repo, &github.InstallationTokenOptions{Repositories: []string{name}})
}

// RepoTokenByID is RepoToken for a repository given by its numeric id.
func (a *AppTransport) RepoTokenByID(ctx context.Context, installationID, repoID int64) (token string, expires time.Time, err error) {
	if repoID <= 0 {
		return "", time.Time{}, failure.New(failure.Invalid, "mint a GitHub token: repository id must be positive, not %d", repoID)
	}
	return a.mint(ctx, installationID, fmt.Sprintf("repository id %d", repoID), &github.InstallationTokenOptions{RepositoryIDs: []int64{repoID}})
}

// mint calls POST /app/installations/{id}/access_tokens. Minting is safe to
// repeat, so server errors are retried.
func (a *AppTransport) mint(ctx context.Context, installationID int64, what string, opts *github.InstallationTokenOptions) (string, time.Time, error) {
	return a.mintScoped(ctx, installationID, what, opts, a.perms)
}

// mintScoped mints with the given permissions.
func (a *AppTransport) mintScoped(ctx context.Context, installationID int64, what string, opts *github.InstallationTokenOptions, perms github.InstallationPermissions) (string, time.Time, error) {
	opts.Permissions = &perms
	o := op{what: fmt.Sprintf("mint a GitHub token for %s in installation %d", what, installationID),
		forbidden: "the installation may be suspended",
		notFound:  fmt.Sprintf("installation %d does not exist: the App was uninstalled, or the App id does not match", installationID),
		invalid: "the repository is not part of the installation, or the App lacks the permissions asked for " +
			"(contents: write; workflows: write only if the App was granted it)",
	}
	var tok *github.InstallationToken
	err := a.retry.do(ctx, true, func() (resp *github.Response, err error) {
		tok, resp, err = a.apps.Apps.CreateInstallationToken(ctx, installationID, opts)
		return resp, err
	})
	if err != nil {
		return "", time.Time{}, classify(err, o, nil)
	}
	if tok.GetToken() == "" {
		return "", time.Time{}, failure.New(failure.Internal, "%s: GitHub answered without a token", o.what)
	}
	return tok.GetToken(), tok.GetExpiresAt().Time, nil
}
