package actioncmd

import (
	"context"
	"encoding/json"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// Tokens of the fake account-mode runs.
const (
	fakeGitHubToken = "ghp_fake_source"
	fakeGiteeToken  = "gitee_fake_destination"
)

// syncOutcome is what the fake sync returns for one repository.
type syncOutcome struct {
	res *mirror.Result
	err error
}

// accountBundle is a fake account-mode run: a GitHub source and a Gitee
// destination in memory, and a sync that returns canned outcomes.
type accountBundle struct {
	*testBundle
	src, dst *fakeForge
	srcErr   error // returned by NewForge for the source side

	mu       sync.Mutex
	outcomes map[string]syncOutcome // by source repository name
	specs    []forgeSpec
	// beforeSync runs at the start of every sync call, e.g. to count
	// concurrent ones. It may block.
	beforeSync func()
}

// setupAccount returns a bundle whose source is github/octo and destination
// gitee/mirror, with tokens in the environment.
func setupAccount(t *testing.T, actions bool) *accountBundle {
	t.Helper()
	b := &accountBundle{
		testBundle: setup(t, actions),
		src:        newFakeForge(t, "github", forge.Credentials{Username: "x-access-token", Token: fakeGitHubToken}),
		dst:        newFakeForge(t, "gitee", forge.Credentials{Username: "mirror-bot", Token: fakeGiteeToken}),
		outcomes:   map[string]syncOutcome{},
	}
	b.env["SOURCE_TOKEN"] = fakeGitHubToken
	b.env["DESTINATION_TOKEN"] = fakeGiteeToken
	return b
}

// created is a sync result for a repository mirrored for the first time.
func created() *mirror.Result {
	return &mirror.Result{Refs: []mirror.RefResult{
		{Ref: "refs/heads/main", Action: mirror.ActCreate, Outcome: mirror.Created, Source: sha1},
		{Ref: "refs/tags/v1", Action: mirror.ActCreate, Outcome: mirror.Created, Source: sha2},
	}}
}

// app returns the app under test.
func (b *accountBundle) app(args []string) *App {
	a := b.testBundle.app(args, nil, nil)
	a.NewForge = func(_ context.Context, s forgeSpec) (forge.Forge, error) {
		b.mu.Lock()
		b.specs = append(b.specs, s)
		b.mu.Unlock()
		if s.role == inSource {
			if b.srcErr != nil {
				return nil, b.srcErr
			}
			return b.src, nil
		}
		return b.dst, nil
	}
	a.Sync = func(ctx context.Context, opts mirror.Options) (*mirror.Result, error) {
		if b.beforeSync != nil {
			b.beforeSync()
		}
		name := strings.TrimSuffix(path.Base(opts.Source.URL), ".git")
		if opts.CreateTarget != nil {
			// What the core does for a target to create: stop at an empty
			// source, else create it first. Only syncs that get past this
			// are recorded in calls.
			if b.src.isEmpty(strings.TrimSuffix(strings.TrimPrefix(opts.Source.URL, b.src.srv.URL+"/"), ".git")) {
				return &mirror.Result{NoOp: true, SourceEmpty: true}, nil
			}
			if err := opts.CreateTarget(ctx); err != nil {
				return nil, err
			}
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		b.calls = append(b.calls, opts)
		if o, ok := b.outcomes[name]; ok {
			return o.res, o.err
		}
		return created(), nil
	}
	return a
}

// run runs the app with the account-mode arguments plus args.
func (b *accountBundle) run(t *testing.T, args ...string) int {
	t.Helper()
	all := append([]string{"--source=github/octo", "--destination=gitee/mirror"}, args...)
	return exitCode(b.app(all).run(t.Context()))
}

// synced lists the source repositories the sync was called for, sorted.
func (b *accountBundle) synced() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, c := range b.calls {
		out = append(out, strings.TrimSuffix(path.Base(c.Source.URL), ".git"))
	}
	return sortedCopy(out)
}

// reportFile is the account report as JSON, read back.
type reportFile struct {
	Source, Destination string
	OK                  bool
	Changed, Diverged   int
	Mirrored            int `json:"mirrored_repositories"`
	Failed              int `json:"failed_repositories"`
	DivergedRepos       int `json:"diverged_repositories"`
	Skipped             int `json:"skipped_repositories"`
	Planned             int `json:"planned_repositories"`
	Error               *struct{ Class, Message string }
	Repositories        []struct {
		Source, Destination string
		Status              string
		Created             bool
		Note                string
		Changed, Diverged   int
		Failed              int
		Error               *struct{ Class, Message string }
		Refs                []mirror.RefResult
	}
}

// report reads the report written outside Actions.
func (b *accountBundle) report(t *testing.T) reportFile {
	t.Helper()
	name := filepath.Join(b.dir, "gitee-mirror-report.json")
	if ws := b.env["GITHUB_WORKSPACE"]; ws != "" {
		name = filepath.Join(ws, "gitee-mirror-report-mirror.json")
	}
	var rep reportFile
	data := b.file(t, name)
	if err := json.Unmarshal([]byte(data), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, data)
	}
	return rep
}

// statuses maps each repository of a report to its status.
func (r reportFile) statuses() map[string]string {
	out := map[string]string{}
	for _, repo := range r.Repositories {
		out[repo.Source] = repo.Status
	}
	return out
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
