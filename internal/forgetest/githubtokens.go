package forgetest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// The fake GitHub holds the App to least privilege: by default every
// POST /app/installations/{id}/access_tokens must narrow the token to one
// repository and to the permissions of one kind of call (TokenScopes). A
// request that does not fails the test and is answered 422, so that a token
// wider than its work is caught where it is minted, not found later in a
// leaked log. Tokens are then held to their permissions by every endpoint,
// as GitHub does (403 or 404 without them).

// TokenScopes are the permission sets a narrowed installation token may
// ask for (metadata read may come along with each): one per kind of call
// the App makes — read the settings file, write check runs, push with Git
// (with workflows write where the App was granted it).
func TokenScopes() []Permissions {
	return []Permissions{
		{"contents": "read"},
		{"checks": "write"},
		{"contents": "write"},
		{"contents": "write", "workflows": "write"},
	}
}

// tokenPolicy is what the forge accepts from token requests; in appState.
type tokenPolicy struct {
	wide   bool          // AllowWideTokens: GitHub's own leniency
	scopes []Permissions // TokenScopes plus AllowTokenScope
}

// AllowWideTokens lets token requests go unnarrowed (every repository and
// permission of the installation), as GitHub itself allows: for tests of
// that behaviour, never for tests of the App.
func (f *Forge) AllowWideTokens() {
	f.api.mu.Lock()
	defer f.api.mu.Unlock()
	f.api.apps.tokens.wide = true
}

// AllowTokenScope adds a permission set narrowed tokens may ask for, for a
// kind of call TokenScopes does not know yet.
func (f *Forge) AllowTokenScope(p Permissions) {
	f.api.mu.Lock()
	defer f.api.mu.Unlock()
	f.api.apps.tokens.scopes = append(f.api.apps.tokens.scopes, maps.Clone(p))
}

// TokenRequest is one POST /app/installations/{id}/access_tokens as the
// forge received it, refused or not.
type TokenRequest struct {
	InstallationID int64
	Repositories   []string
	RepositoryIDs  []int64
	Permissions    Permissions
	// Refused says why the forge refused it ("" when a token was minted
	// or GitHub's own rules refused it).
	Refused string
}

// TokenRequests returns every token request so far, oldest first.
func (f *Forge) TokenRequests() []TokenRequest {
	f.api.mu.Lock()
	defer f.api.mu.Unlock()
	out := slices.Clone(f.api.apps.requests)
	for i := range out {
		out[i].Repositories = slices.Clone(out[i].Repositories)
		out[i].RepositoryIDs = slices.Clone(out[i].RepositoryIDs)
		out[i].Permissions = maps.Clone(out[i].Permissions)
	}
	return out
}

// tooWide says why a token request is wider than one call needs, or "".
func (p tokenPolicy) tooWide(body mintBody) string {
	if p.wide {
		return ""
	}
	switch n := len(body.Repositories) + len(body.RepositoryIDs); {
	case n == 0:
		return "names no repository: narrow it with repositories or repository_ids to the one repository the call works on"
	case n > 1:
		return fmt.Sprintf("names %d repositories: mint one token per repository", n)
	}
	if len(body.Permissions) == 0 {
		return "names no permissions: ask for those of the call only (e.g. contents: read to read a file)"
	}
	asked := maps.Clone(Permissions(body.Permissions))
	if asked["metadata"] == "read" {
		delete(asked, "metadata")
	}
	for _, s := range p.scopes {
		if maps.Equal(asked, s) {
			return ""
		}
	}
	var want []string
	for _, s := range p.scopes {
		want = append(want, showPermissions(s))
	}
	return fmt.Sprintf("asks for %s, wider than any one call needs: want one of %s", showPermissions(asked), strings.Join(want, "; "))
}

// showPermissions writes permissions as "checks: write, contents: read".
func showPermissions(p Permissions) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(p)) {
		parts = append(parts, k+": "+p[k])
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}
