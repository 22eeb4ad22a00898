package forge

import (
	"context"
	"net/http"
	"time"
)

// Site names a hosting site: the kind of a side of a mirror.
type Site string

// Sites.
const (
	GitHub Site = "github"
	Gitee  Site = "gitee"
)

// What only some sites can do is a capability interface beside Forge, found
// with a type assertion: a new site adds an implementation, not a branch in
// every caller.

// Account is a forge whose token belongs to a person: it knows that
// person's login (Gitee's GET /user).
type Account interface {
	// Login is the token's own login, asked once and remembered.
	Login(ctx context.Context) (string, error)
}

// Hooks registers the push webhook through which a site announces pushes to
// the App (Gitee: signature mode, push and tag push events).
type Hooks interface {
	// PutPushHook makes the repository have a push webhook to url signed
	// with secret and returns its id: hook id is updated when it still
	// exists, else one that already points at url, else a new one, so a
	// retry never leaves two hooks.
	PutPushHook(ctx context.Context, owner, name string, id int64, url, secret string) (int64, error)
	// DeleteHook removes a webhook.
	DeleteHook(ctx context.Context, owner, name string, id int64) error
	// TestHook asks the site to send the webhook a test delivery.
	TestHook(ctx context.Context, owner, name string, id int64) error
}

// Checks reports a result on a commit (GitHub check runs).
type Checks interface {
	// CreateCheckRun creates a check run on headSHA and returns its id.
	CreateCheckRun(ctx context.Context, owner, name, headSHA string, cr CheckRun) (int64, error)
}

// Contents reads one file of a repository.
type Contents interface {
	// RepoFile returns a file's content and blob sha at ref (the default
	// branch when ""); failure.NotFound when it does not exist.
	RepoFile(ctx context.Context, owner, name, path, ref string) (content []byte, sha string, err error)
}

// Commits resolves a branch or tag to its commit, so that what is read
// there and what is reported on it are the same commit.
type Commits interface {
	// CommitSHA is the commit ref names; failure.NotFound when none.
	CommitSHA(ctx context.Context, owner, name, ref string) (string, error)
}

// Access is a permission level asked of a narrowed token.
type Access string

// Access levels.
const (
	NoAccess Access = ""
	Read     Access = "read"
	Write    Access = "write"
)

// TokenScope is what a narrowed token may do: the permissions of the calls
// it is minted for, and nothing more (metadata read comes with every one).
type TokenScope struct {
	Contents  Access // read: the settings file; write: Git pushes
	Checks    Access // write: check runs
	Workflows Access // write: pushes that touch .github/workflows
}

// Scopes of the App's calls.
var (
	// ScopeReadFile reads the settings file.
	ScopeReadFile = TokenScope{Contents: Read}
	// ScopeChecks writes check runs.
	ScopeChecks = TokenScope{Checks: Write}
	// ScopePush pushes with Git; the site adds workflows write where the
	// App was granted it.
	ScopePush = TokenScope{Contents: Write}
)

// RepoRef names one repository: by id when the site gave one (stable
// across renames), else by owner and name.
type RepoRef struct {
	ID          int64
	Owner, Name string
}

// FullName is "owner/name".
func (r RepoRef) FullName() string { return r.Owner + "/" + r.Name }

// RepoTokens mints short-lived tokens narrowed to one repository and a
// scope (GitHub App installation tokens).
type RepoTokens interface {
	// RepoToken returns a token for repo alone with scope, and when it
	// expires (zero: unknown).
	RepoToken(ctx context.Context, repo RepoRef, scope TokenScope) (token string, expires time.Time, err error)
}

// Installations reaches a site as an installation of the App (GitHub).
type Installations interface {
	// Installation is the site acting as one installation: its API, and
	// narrowed tokens through RepoTokens.
	Installation(installationID int64) (Forge, error)
}

// Opener builds the forge of a site for a token. Only the front ends
// (app/, action/) implement it, over the concrete sites; everything above
// the sync core is handed one.
type Opener interface {
	// Open returns site reached with creds (a person's token, or a token
	// minted through RepoTokens).
	Open(site Site, creds Credentials) (Forge, error)
}

// Deliveries reads the webhook deliveries of a site whose hooks are
// registered per mirror (Gitee), so that the intake needs no site's
// package.
type Deliveries interface {
	// VerifyDelivery checks a delivery's password or signature against
	// secret; the error says why it was refused (never the secret).
	VerifyDelivery(secret string, h http.Header, now time.Time) error
	// DeliveryEvent names what a delivery announces: a push (of a branch
	// or a tag), a ping (a test delivery), or another event.
	DeliveryEvent(h http.Header) (event string, kind DeliveryKind)
	// PushedRef is the ref a push delivery names, for the log ("" when the
	// body says none: it is unsigned, and only a hint).
	PushedRef(body []byte) string
}

// DeliveryKind classifies a webhook delivery.
type DeliveryKind int

// Delivery kinds.
const (
	OtherDelivery DeliveryKind = iota
	PushDelivery
	PingDelivery
)

// Check run conclusions, as GitHub spells them.
const (
	ConclusionSuccess = "success"
	ConclusionNeutral = "neutral" // e.g. refs diverged, nothing lost
	ConclusionFailure = "failure"
)

// Check run statuses, as GitHub spells them.
const (
	CheckQueued     = "queued"
	CheckInProgress = "in_progress"
	CheckCompleted  = "completed"
)

// CheckRunName is the name of the check run the App sets on pushed commits.
const CheckRunName = "Gitee mirror"

// CheckRun describes a check run to create.
type CheckRun struct {
	// Name defaults to CheckRunName.
	Name string
	// Status is queued, in_progress or completed; default completed when
	// Conclusion is set, else in_progress.
	Status string
	// Conclusion is success, neutral, failure (or GitHub's other words);
	// required with status completed.
	Conclusion string
	// Title and Summary (Markdown) are the output shown on the commit;
	// Text is optional detail. Summary and Text are cut to the site's
	// limit.
	Title   string
	Summary string
	Text    string
	// DetailsURL links to the App's page for the mirror; ExternalID is
	// our reference for the run. Both optional.
	DetailsURL string
	ExternalID string
	// Annotations mark lines of files in the commit (at most
	// MaxAnnotations are sent).
	Annotations []Annotation
}

// MaxAnnotations is how many annotations GitHub takes with one request.
const MaxAnnotations = 50

// Annotation is a problem on one line of a file, shown beside that line.
type Annotation struct {
	Path    string
	Line    int // 1-based; 0 marks the file's first line
	Title   string
	Message string
}
