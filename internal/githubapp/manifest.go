package githubapp

// What the App asks GitHub for, in one place: the manifest the settings
// pages register, and README's permission list (app's TestREADMEPermissions
// keeps it in step).

// Permissions are the repository permissions the App asks for, by name,
// with their access: contents to push and publish releases, workflows to
// push files under .github/workflows, checks to report on commits. Not
// administration: the App creates and edits repositories on Gitee only (the
// GitHub side is the repository it is installed on), and asks for no more
// than its calls use.
var Permissions = map[string]string{
	"metadata":  "read",
	"contents":  "write",
	"workflows": "write",
	"checks":    "write",
}

// Events are the webhook events the App subscribes to: pushes and releases
// to mirror, repository renames and deletions, and its installations.
var Events = []string{"push", "release", "repository", "installation", "installation_repositories"}
