// Package githubapp is the GitHub side of gitee-mirror: a forge.Forge over
// GitHub's REST API (go-github v62), for github.com and GitHub Enterprise
// Server, plus the GitHub App pieces the App needs (App JWT, one installation
// transport per installation, installation tokens scoped to one repository).
//
// Authentication is whatever the *http.Client carries: NewWithToken wraps a
// static token (the Action's GITHUB_TOKEN or a personal access token);
// AppTransport.InstallationClient uses a ghinstallation transport. Git over
// HTTPS uses the user name "x-access-token" and the token as password.
//
// Every error returned is a *failure.Error whose message says what is wrong
// and what to do, keeps GitHub's own words, and never contains a token.
package githubapp
