package githubapp

// What the App asks GitHub for, in one place: the manifest the settings
// pages register, and README's permission list (app's TestREADMEPermissions
// keeps it in step).

// Permissions are the repository permissions the App asks for, by name,
// with their access: contents to push and publish releases, workflows to
// push files under .github/workflows, checks to report on commits.
// Administration is asked for too, but no call of the App uses it (it
// creates repositories on Gitee only, and no narrowed token carries it).
var Permissions = map[string]string{
	"metadata":       "read",
	"contents":       "write",
	"workflows":      "write",
	"checks":         "write",
	"administration": "write",
}

// Events are the webhook events the App subscribes to: pushes and releases
// to mirror, repository renames and deletions, and its installations.
var Events = []string{"push", "release", "repository", "installation", "installation_repositories"}
