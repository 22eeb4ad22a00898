package mirror

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// DefaultTimeout bounds one whole sync unless Options.Timeout says otherwise.
const DefaultTimeout = 30 * time.Minute

// DefaultAttempts is how many times a sync is tried when it fails for a
// transient reason or a ref moved between plan and push.
const DefaultAttempts = 3

// Endpoint is one side of a mirror: a Git repository reached over smart HTTP.
type Endpoint struct {
	// URL of the repository, http:// or https://, without credentials
	// (e.g. https://gitee.com/owner/repo.git). Credentials in the URL are
	// refused: they leak into logs and process lists.
	URL string
	// Username for HTTP basic auth ("x-access-token" for GitHub tokens, the
	// account's login for Gitee). Empty with a token means "x-access-token".
	Username string
	// Token is the password for HTTP basic auth. Never logged or returned.
	Token string
}

// Options configure one sync. The zero value of every field is a safe default.
type Options struct {
	Source Endpoint
	Target Endpoint

	// Branches and Tags are glob lists (path.Match syntax, "**" not needed:
	// "*" matches "/"), matched against the short name ("main", "v1.0"). A
	// leading "!" excludes; later entries win. Empty means all.
	Branches []string
	Tags     []string
	// NoTags turns tag mirroring off altogether.
	NoTags bool

	// Force overwrites diverged target refs (after backing them up).
	Force bool
	// Prune deletes target refs the source no longer has, when that loses
	// nothing (the target commit is reachable from a source ref); with Force,
	// after backing them up.
	Prune bool
	// DryRun plans and reports but changes nothing on the target.
	DryRun bool
	// TwoWay makes Source and Target peers (DESIGN.md's two-way table):
	// changes on either side are carried to the other, a ref changed on both
	// is a conflict (Outcome Conflict) and touches neither side. Both tokens
	// need write access. Without a last-synced state (CacheDir or State) it
	// only creates and fast-forwards; with one and Prune, a ref deleted on
	// one side and unchanged on the other is deleted there too, after a
	// backup. Force is refused: it would have to pick a winner.
	TwoWay bool
	// LFS copies the Git LFS objects that the pushed commits point to,
	// through the LFS batch API with the same credentials as Git, before
	// the refs that need them are updated (both ways in a two-way sync).
	// LFSOff (the default) mirrors pointer files only. See LFSReport.
	LFS LFSMode
	// LFSParallel is how many LFS objects are copied at once;
	// lfs.DefaultParallel when zero.
	LFSParallel int

	// Timeout for the whole sync; DefaultTimeout when zero.
	Timeout time.Duration
	// Attempts bounds retries; DefaultAttempts when zero.
	Attempts int
	// RetryDelay is the first pause between attempts, doubling after each;
	// one second when zero.
	RetryDelay time.Duration
	// CacheDir, if set, keeps the commit graph and last-synced state between
	// runs, so ancestry questions need no extra fetch and the "rewritten on
	// purpose" rule can apply. Holds no credentials.
	CacheDir string
	// State supplies and records the last-synced commit per ref. Overrides
	// the file kept in CacheDir. Optional.
	State StateStore

	// CreateTarget, when set, says that the target repository does not
	// exist yet, and makes it, empty. The sync then reads the source first
	// and stops there when the source has no branch and no tag at all
	// (Result.SourceEmpty): nothing is created and the target is not
	// contacted. Otherwise CreateTarget is called once, before anything is
	// asked of the target, also in a dry run (the caller decides what to do
	// then). An error from it ends the sync and is returned as it is: it is
	// not retried here nor wrapped. The new target is not listed before the
	// first push: its updates may only create refs, so a ref that appeared
	// there meanwhile is refused rather than overwritten, and the sync plans
	// again from a listing.
	CreateTarget func(ctx context.Context) error

	// Hints are what the caller was told the source's refs now are: full
	// ref name → commit id (hex), from a push event (GitHub's webhook
	// payload, a workflow's GITHUB_REF and GITHUB_SHA). With a cache
	// directory, and what an earlier sync there remembered, the pack that
	// carries a hinted commit is asked for at once, beside the listings,
	// instead of after them; it is used only if the listings confirm the
	// hint, else dropped. Hints never decide what is written: the listings
	// and the rules do, as without them. Optional.
	Hints map[string]string

	// HTTPClient for both sides; a client with sane timeouts and no
	// cross-host redirects when nil.
	HTTPClient *http.Client
	// Logger for progress; slog.Default() when nil. Never receives secrets.
	Logger *slog.Logger
	// Progress, when set, receives a snapshot of the object transfer each
	// time it changes (see Progress), from the goroutines moving the pack:
	// it must return quickly. Setting it also asks the source for its own
	// progress messages.
	Progress func(Progress)
	// UserAgent sent to both sides.
	UserAgent string
}

// StateStore keeps, per target ref, the last commit this mirror wrote there
// (the "L" of DESIGN.md's rules).
type StateStore interface {
	// Load returns the last-synced object id (hex) per full ref name.
	Load() (map[string]string, error)
	// Save records the last-synced object ids after a sync; a ref mapped to
	// "" is forgotten.
	Save(map[string]string) error
}

func (o *Options) validate() error {
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Attempts <= 0 {
		o.Attempts = DefaultAttempts
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.UserAgent == "" {
		o.UserAgent = "gitee-mirror"
	}
	if o.TwoWay && o.Force {
		return fmt.Errorf("force cannot be used with two-way sync: it would have to choose which side's commits to throw away; resolve conflicts by hand instead")
	}
	if o.Timeout < 0 {
		return fmt.Errorf("timeout must be positive, got %s", o.Timeout)
	}
	return nil
}
