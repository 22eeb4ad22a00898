package actioncmd

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// octoOrg fills the fake source with an organisation of every kind of
// repository; mirror/app already exists on the destination.
func octoOrg(b *accountBundle) {
	b.src.add(forge.Repo{Owner: "octo", Name: "app", Description: "the app", DefaultBranch: "main"})
	b.src.add(forge.Repo{Owner: "octo", Name: "lib", Description: "a library", Homepage: "https://lib.example", DefaultBranch: "trunk", Private: true})
	b.src.add(forge.Repo{Owner: "octo", Name: "site", DefaultBranch: "main"})
	b.src.add(forge.Repo{Owner: "octo", Name: "forked", Fork: true})
	b.src.add(forge.Repo{Owner: "octo", Name: "old", Archived: true})
	b.src.add(forge.Repo{Owner: "octo", Name: "blank", Empty: true})
	b.src.add(forge.Repo{Owner: "octo", Name: "hollow"}) // empty, but only Git can tell
	b.src.setEmpty("octo/hollow")
	b.dst.add(forge.Repo{Owner: "mirror", Name: "app"})
}

func TestAccountMirrorsOrganisation(t *testing.T) {
	t.Parallel()
	b := setupAccount(t, false)
	octoOrg(b)
	b.outcomes["lib"] = syncOutcome{res: &mirror.Result{Refs: []mirror.RefResult{
		{Ref: "refs/heads/trunk", Action: mirror.ActCreate, Outcome: mirror.Created, Source: sha1},
	}}}
	if got := b.run(t); got != exitOK {
		t.Fatalf("exit %d; stderr:\n%s\nstdout:\n%s", got, &b.stderr, &b.stdout)
	}
	if got, want := b.synced(), []string{"app", "lib", "site"}; !reflect.DeepEqual(got, want) {
		t.Errorf("synced %q, want %q", got, want)
	}
	if got, want := b.dst.createdNames(), []string{"lib", "site"}; !reflect.DeepEqual(got, want) {
		t.Errorf("created %q, want %q (not app: it exists; not hollow: it is empty)", got, want)
	}
	if b.dst.listCalls != 1 || len(b.dst.getCalls) != 0 {
		t.Errorf("destination listed %d times and looked up %q; want one listing, no lookups", b.dst.listCalls, b.dst.getCalls)
	}
	for _, c := range b.dst.created {
		// OwnerKind org: listing mirror as an organisation succeeded.
		want := forge.CreateOptions{Owner: "mirror", OwnerKind: forge.Org, Name: "site", Visibility: forge.Public}
		if c.Name == "lib" {
			want = forge.CreateOptions{Owner: "mirror", OwnerKind: forge.Org, Name: "lib", Description: "a library", Homepage: "https://lib.example", Visibility: forge.Private}
		}
		if c != want {
			t.Errorf("created %+v, want %+v", c, want)
		}
	}
	if got, want := b.dst.updates, map[string]forge.RepoUpdate{
		"mirror/lib":  {DefaultBranch: "trunk"},
		"mirror/site": {DefaultBranch: "main"},
	}; !reflect.DeepEqual(got, want) {
		t.Errorf("updates %v, want %v (default branches of created repositories only)", got, want)
	}
	rep := b.report(t)
	wantStatus := map[string]string{
		"octo/app": "mirrored", "octo/lib": "mirrored", "octo/site": "mirrored",
		"octo/forked": "skipped", "octo/old": "skipped", "octo/blank": "skipped", "octo/hollow": "skipped",
	}
	if got := rep.statuses(); !reflect.DeepEqual(got, wantStatus) {
		t.Errorf("statuses %v, want %v", got, wantStatus)
	}
	if !rep.OK || rep.Mirrored != 3 || rep.Skipped != 4 || rep.Changed != 5 {
		t.Errorf("report ok=%v mirrored=%d skipped=%d changed=%d", rep.OK, rep.Mirrored, rep.Skipped, rep.Changed)
	}
	out := b.stdout.String()
	for _, want := range []string{
		"Mirroring the repositories of github/octo to gitee/mirror",
		"forks: true", "archived: true", "empty: the source has no branches or tags yet",
		"created; default branch trunk",
		"Repositories: 3 mirrored, 4 skipped. Refs: 5 changed, 0 diverged.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
}

func TestAccountEndpoints(t *testing.T) {
	t.Parallel()
	b := setupAccount(t, false)
	b.src.add(forge.Repo{Owner: "octo", Name: "app"})
	b.env["DESTINATION_USERNAME"] = "ignored-outside-actions"
	if got := b.run(t, "--branches=main", "--force", "--timeout=5m"); got != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", got, &b.stderr)
	}
	got := b.calls[0]
	if got.Source != (mirror.Endpoint{URL: b.src.GitURL("octo", "app"), Username: "x-access-token", Token: fakeGitHubToken}) {
		t.Errorf("source endpoint %+v", got.Source)
	}
	if got.Target != (mirror.Endpoint{URL: b.dst.GitURL("mirror", "app"), Username: "mirror-bot", Token: fakeGiteeToken}) {
		t.Errorf("target endpoint %+v (the Gitee username comes from the client: GET /user)", got.Target)
	}
	if !got.Force || got.Timeout != 5*time.Minute || !reflect.DeepEqual(got.Branches, []string{"main"}) || got.HTTPClient == nil {
		t.Errorf("policy not passed on: %+v", got)
	}
	specs := map[string]forgeSpec{}
	for _, s := range b.specs {
		specs[s.role] = s
	}
	if s := specs[inSource]; s.site != siteGitHub || s.owner != "octo" || s.api != "https://api.github.com/" || s.web != "https://github.com" {
		t.Errorf("source spec %+v", s)
	}
	if s := specs[inDestination]; s.site != siteGitee || s.owner != "mirror" || s.api != "https://gitee.com/api/v5" || s.web != "https://gitee.com" {
		t.Errorf("destination spec %+v", s)
	}
}

func TestAccountExitCodes(t *testing.T) {
	t.Parallel()
	rejected := &mirror.Result{Refs: []mirror.RefResult{
		{Ref: "refs/heads/main", Action: mirror.ActCreate, Outcome: mirror.Created, Source: sha1},
		{Ref: "refs/heads/ci", Action: mirror.ActCreate, Outcome: mirror.Rejected, Source: sha2, Class: failure.Rejected, Message: "hook declined"},
	}}
	diverged := &mirror.Result{Refs: []mirror.RefResult{
		{Ref: "refs/heads/main", Action: mirror.ActSkip, Outcome: mirror.Diverged, Source: sha1, Target: sha2, Class: failure.Diverged},
	}}
	tests := map[string]struct {
		args     []string
		setup    func(b *accountBundle)
		want     int
		synced   []string // nil: not checked
		status   map[string]string
		stderr   string
		noReport bool
	}{
		"all mirrored": {want: exitOK, synced: []string{"a", "b", "c"}},
		"one sync fails": {
			setup:  func(b *accountBundle) { b.outcomes["b"] = syncOutcome{err: failure.New(failure.Auth, "token refused")} },
			want:   exitRefs,
			synced: []string{"a", "b", "c"},
			status: map[string]string{"octo/a": "mirrored", "octo/b": "failed", "octo/c": "mirrored"},
			stderr: "octo/b → mirror/b: failed: auth: token refused",
		},
		"one ref rejected": {
			setup:  func(b *accountBundle) { b.outcomes["a"] = syncOutcome{res: rejected} },
			want:   exitRefs,
			status: map[string]string{"octo/a": "failed", "octo/b": "mirrored", "octo/c": "mirrored"},
			stderr: "refs/heads/ci: rejected: hook declined",
		},
		"one ref diverged": {
			setup:  func(b *accountBundle) { b.outcomes["c"] = syncOutcome{res: diverged} },
			want:   exitRefs,
			status: map[string]string{"octo/a": "mirrored", "octo/b": "mirrored", "octo/c": "diverged"},
			stderr: "1 repository has diverged refs",
		},
		"listing fails": {
			setup: func(b *accountBundle) {
				b.src.listErr = failure.New(failure.NotFound, "organisation octo does not exist")
			},
			want:   exitSync,
			synced: []string{},
			stderr: "listing the repositories of github/octo: not-found: organisation octo does not exist",
		},
		"source client fails": {
			setup:  func(b *accountBundle) { b.srcErr = failure.New(failure.Auth, "bad credentials") },
			want:   exitSync,
			synced: []string{},
			stderr: "source github/octo: auth: bad credentials",
		},
		"create fails": {
			setup: func(b *accountBundle) {
				b.dst.createErr = failure.New(failure.Permission, "token lacks the projects scope")
			},
			want:   exitRefs,
			synced: []string{"a"},
			status: map[string]string{"octo/a": "mirrored", "octo/b": "failed", "octo/c": "failed"},
			stderr: "permission: token lacks the projects scope",
		},
		"destination lookup fails": {
			setup: func(b *accountBundle) {
				b.dst.listErr = failure.New(failure.Permission, "may not list")
				b.dst.getErr["mirror/c"] = failure.New(failure.RateLimited, "slow down")
			},
			want:   exitRefs,
			synced: []string{"a", "b"},
			status: map[string]string{"octo/a": "mirrored", "octo/b": "mirrored", "octo/c": "failed"},
		},
		"default branch fails": {
			setup:  func(b *accountBundle) { b.dst.updateErr = failure.New(failure.Permission, "admin rights needed") },
			want:   exitRefs,
			status: map[string]string{"octo/a": "mirrored", "octo/b": "failed", "octo/c": "failed"},
			stderr: "mirrored, but setting the default branch to main failed",
		},
		"missing without create-missing": {
			args:   []string{"--create-missing=false"},
			want:   exitRefs,
			synced: []string{"a"},
			status: map[string]string{"octo/a": "mirrored", "octo/b": "failed", "octo/c": "failed"},
			stderr: "mirror/b does not exist on gitee: create it, or set create-missing: true",
		},
		"dry run plans creation": {
			args:   []string{"--dry-run"},
			want:   exitOK,
			synced: []string{"a"},
			status: map[string]string{"octo/a": "mirrored", "octo/b": "planned", "octo/c": "planned"},
		},
		"no gitee token": {
			setup:    func(b *accountBundle) { delete(b.env, "DESTINATION_TOKEN") },
			want:     exitUsage,
			synced:   []string{},
			stderr:   `invalid input "destination-token": a Gitee account needs a personal access token`,
			noReport: true,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setupAccount(t, false)
			for _, n := range []string{"a", "b", "c"} {
				b.src.add(forge.Repo{Owner: "octo", Name: n, DefaultBranch: "main"})
			}
			b.dst.add(forge.Repo{Owner: "mirror", Name: "a"})
			if tt.setup != nil {
				tt.setup(b)
			}
			if got := b.run(t, tt.args...); got != tt.want {
				t.Errorf("exit %d, want %d; stderr:\n%s", got, tt.want, &b.stderr)
			}
			if tt.synced != nil {
				if got := b.synced(); !reflect.DeepEqual(got, tt.synced) && len(got)+len(tt.synced) > 0 {
					t.Errorf("synced %q, want %q", got, tt.synced)
				}
			}
			if !strings.Contains(b.stderr.String(), tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, &b.stderr)
			}
			if tt.noReport {
				return
			}
			rep := b.report(t)
			if tt.status != nil {
				if got := rep.statuses(); !reflect.DeepEqual(got, tt.status) {
					t.Errorf("statuses %v, want %v", got, tt.status)
				}
			}
			if rep.OK != (tt.want == exitOK) {
				t.Errorf("report ok = %v with exit %d", rep.OK, tt.want)
			}
			if tt.want == exitSync && (rep.Error == nil || len(rep.Repositories) != 0) {
				t.Errorf("a run that could not start reports error %v and %d repositories", rep.Error, len(rep.Repositories))
			}
		})
	}
}

func TestAccountFixedList(t *testing.T) {
	t.Parallel()
	b := setupAccount(t, false)
	b.src.add(forge.Repo{Owner: "octo", Name: "app", Description: "named", Fork: true, Archived: true})
	b.src.add(forge.Repo{Owner: "octo", Name: "tool"})
	b.src.add(forge.Repo{Owner: "octo", Name: "other"})
	b.dst.add(forge.Repo{Owner: "mirror", Name: "tool"})
	if got := b.run(t, "--repositories=app\ntool,gone", "--exclude=gone"); got != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", got, &b.stderr)
	}
	if b.src.listCalls != 0 {
		t.Errorf("ListRepos called %d times: repositories is a fixed list", b.src.listCalls)
	}
	if got, want := b.synced(), []string{"app", "tool"}; !reflect.DeepEqual(got, want) {
		t.Errorf("synced %q, want %q (a named fork or archived repository is mirrored)", got, want)
	}
	if got, want := b.src.getCalls, []string{"octo/app"}; !reflect.DeepEqual(got, want) {
		t.Errorf("source lookups %q, want %q (only for a destination to create)", got, want)
	}
	if len(b.dst.created) != 1 || b.dst.created[0].Description != "named" {
		t.Errorf("created %+v", b.dst.created)
	}
	rep := b.report(t)
	if got, want := rep.statuses(), map[string]string{"octo/app": "mirrored", "octo/tool": "mirrored", "octo/gone": "skipped"}; !reflect.DeepEqual(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
}

func TestAccountMappingsAndFilters(t *testing.T) {
	t.Parallel()
	b := setupAccount(t, false)
	for _, n := range []string{"api", "api-docs", "web", "Web-Legacy", "tools"} {
		b.src.add(forge.Repo{Owner: "octo", Name: n})
	}
	args := []string{"--include=api*, web*, tools, missing", "--exclude=*-legacy", "--mappings=api=>octo-api\nweb => octo-web, nothing=>x"}
	if got := b.run(t, args...); got != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", got, &b.stderr)
	}
	var targets []string
	for _, c := range b.calls {
		targets = append(targets, strings.TrimPrefix(c.Target.URL, b.dst.srv.URL+"/"))
	}
	if got, want := sortedCopy(targets), []string{"mirror/api-docs.git", "mirror/octo-api.git", "mirror/octo-web.git", "mirror/tools.git"}; !reflect.DeepEqual(got, want) {
		t.Errorf("targets %q, want %q", got, want)
	}
	if !strings.Contains(b.stderr.String(), "mappings: nothing matches no repository of github/octo") {
		t.Errorf("no warning for an unused mapping:\n%s", &b.stderr)
	}
	if out := b.stdout.String(); strings.Contains(out, "Web-Legacy") || !strings.Contains(out, "1 not selected by include/exclude") {
		t.Errorf("filtered repositories should be counted, not listed:\n%s", out)
	}
	rep := b.report(t)
	if got := rep.statuses()["octo/Web-Legacy"]; got != "skipped" {
		t.Errorf("the report lacks the excluded repository (status %q)", got)
	}
}

func TestAccountNameClash(t *testing.T) {
	t.Parallel()
	b := setupAccount(t, false)
	b.src.add(forge.Repo{Owner: "octo", Name: "a"})
	b.src.add(forge.Repo{Owner: "octo", Name: "b"})
	if got := b.run(t, "--mappings=a=>b"); got != exitRefs {
		t.Fatalf("exit %d, want %d", got, exitRefs)
	}
	if got, want := b.synced(), []string{"a"}; !reflect.DeepEqual(got, want) {
		t.Errorf("synced %q, want %q", got, want)
	}
	if !strings.Contains(b.stderr.String(), "the destination b is already the mirror of a") {
		t.Errorf("stderr:\n%s", &b.stderr)
	}
}

// TestAccountConcurrency: at most concurrency syncs run at once, and that
// many do.
func TestAccountConcurrency(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprintf("concurrency=%d", n), func(t *testing.T) {
			t.Parallel()
			b := setupAccount(t, false)
			for i := range 7 {
				b.src.add(forge.Repo{Owner: "octo", Name: string(rune('a' + i))})
			}
			var (
				mu             sync.Mutex
				inflight, peak int
				gate           = make(chan struct{})
				once           sync.Once
			)
			b.beforeSync = func() {
				mu.Lock()
				inflight++
				peak = max(peak, inflight)
				if inflight == n {
					once.Do(func() { close(gate) })
				}
				mu.Unlock()
				select {
				case <-gate:
				case <-time.After(10 * time.Second):
					t.Error("fewer syncs than concurrency ran at once")
				}
				mu.Lock()
				inflight--
				mu.Unlock()
			}
			if got := b.run(t, fmt.Sprintf("--concurrency=%d", n)); got != exitOK {
				t.Fatalf("exit %d; stderr:\n%s", got, &b.stderr)
			}
			if peak != n {
				t.Errorf("peak concurrent syncs %d, want %d", peak, n)
			}
			if got := len(b.synced()); got != 7 {
				t.Errorf("synced %d repositories, want 7", got)
			}
		})
	}
}

func TestAccountActionsOutputs(t *testing.T) {
	t.Parallel()
	b := setupAccount(t, true)
	octoOrg(b)
	b.outcomes["site"] = syncOutcome{err: failure.New(failure.Rejected, "quota exceeded")}
	b.env["INPUT_SOURCE"] = "github/octo"
	b.env["INPUT_DESTINATION"] = "gitee/mirror"
	b.env["INPUT_CONCURRENCY"] = "4" // action.yml's defaults arrive as inputs
	b.env["INPUT_CREATE-MISSING"] = "true"
	b.env["INPUT_VISIBILITY"] = "source"
	if got := exitCode(b.app(nil).run(t.Context())); got != exitRefs {
		t.Fatalf("exit %d; stdout:\n%s", got, &b.stdout)
	}
	out := b.outputs(t)
	if want := map[string]string{"changed": "4", "diverged": "0", "kept": "0", "conflicts": "0", "failed": "1", "releases": "0", "lfs-objects": "0", "report": "gitee-mirror-report-mirror.json"}; !reflect.DeepEqual(out, want) {
		t.Errorf("outputs %v, want %v", out, want)
	}
	sum := b.file(t, b.env["GITHUB_STEP_SUMMARY"])
	for _, want := range []string{
		"github/octo → gitee/mirror",
		"| Repository | Status | Changed | Diverged | Failed | Time | Message |",
		"| app | mirrored | 2 | 0 | 0 | ",
		"| lib | mirrored (created) | 2 | 0 | 0 | ",
		"| site | failed (created) | - | - | - | ",
		"rejected: quota exceeded",
		"| forked | skipped | - | - | - | ",
		"Repositories: 2 mirrored, 1 failed, 4 skipped. Refs: 4 changed, 0 diverged.",
	} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
	if want := "::error title=gitee-mirror%3A octo/site::octo/site → mirror/site: failed: rejected: quota exceeded"; !strings.Contains(b.stdout.String(), want) {
		t.Errorf("stdout lacks %q:\n%s", want, &b.stdout)
	}
}

func TestAccountReportCoversEveryRef(t *testing.T) {
	t.Parallel()
	b := setupAccount(t, false)
	b.src.add(forge.Repo{Owner: "octo", Name: "a"})
	b.src.add(forge.Repo{Owner: "octo", Name: "b"})
	b.dst.add(forge.Repo{Owner: "mirror", Name: "a"})
	b.dst.add(forge.Repo{Owner: "mirror", Name: "b"})
	b.outcomes["b"] = syncOutcome{res: badResult()}
	b.run(t)
	rep := b.report(t)
	if rep.Source != "github/octo" || rep.Destination != "gitee/mirror" || rep.OK {
		t.Errorf("report head %+v", rep)
	}
	byName := map[string]int{}
	for _, r := range rep.Repositories {
		byName[r.Source] = len(r.Refs)
	}
	if byName["octo/a"] != 2 || byName["octo/b"] != len(badResult().Refs) {
		t.Errorf("refs per repository %v", byName)
	}
	if rep.Failed != 1 || rep.Changed != 6 || rep.Diverged != 1 {
		t.Errorf("failed=%d changed=%d diverged=%d", rep.Failed, rep.Changed, rep.Diverged)
	}
}

func TestAccountInterrupted(t *testing.T) {
	t.Parallel()
	b := setupAccount(t, false)
	b.src.add(forge.Repo{Owner: "octo", Name: "a"})
	b.src.add(forge.Repo{Owner: "octo", Name: "b"})
	b.dst.add(forge.Repo{Owner: "mirror", Name: "a"})
	b.dst.add(forge.Repo{Owner: "mirror", Name: "b"})
	b.outcomes["a"] = syncOutcome{err: errors.New("context canceled")}
	a := b.app([]string{"--source=github/octo", "--destination=gitee/mirror", "--concurrency=1"})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	inner := a.Sync
	a.Sync = func(c2 context.Context, o mirror.Options) (*mirror.Result, error) {
		cancel()
		return inner(c2, o)
	}
	if got := exitCode(a.run(ctx)); got != exitRefs {
		t.Errorf("exit %d, want %d", got, exitRefs)
	}
	if got := b.synced(); len(got) != 1 {
		t.Errorf("synced %q after the run was interrupted", got)
	}
	if st := b.report(t).statuses(); st["octo/b"] != "failed" {
		t.Errorf("statuses %v", st)
	}
}

// TestAccountDestinationLookups: one listing of the destination replaces a
// lookup per repository; when the listing fails, or cannot be complete,
// each repository is looked up.
func TestAccountDestinationLookups(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		setup     func(b *accountBundle)
		args      []string
		wantGets  []string
		wantLists int
	}{
		"listing used":   {wantGets: nil, wantLists: 1},
		"listing fails":  {setup: func(b *accountBundle) { b.dst.listErr = errors.New("no") }, wantGets: []string{"mirror/a", "mirror/b"}, wantLists: 1},
		"fixed list":     {args: []string{"--repositories=a,b"}, wantGets: []string{"mirror/a", "mirror/b"}},
		"nothing to run": {args: []string{"--exclude=*"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setupAccount(t, false)
			b.src.add(forge.Repo{Owner: "octo", Name: "a"})
			b.src.add(forge.Repo{Owner: "octo", Name: "b"})
			b.dst.add(forge.Repo{Owner: "mirror", Name: "a"})
			if tt.setup != nil {
				tt.setup(b)
			}
			if got := b.run(t, append([]string{"--concurrency=1"}, tt.args...)...); got != exitOK {
				t.Fatalf("exit %d; stderr:\n%s", got, &b.stderr)
			}
			if got := sortedCopy(b.dst.getCalls); !reflect.DeepEqual(got, sortedCopy(tt.wantGets)) && len(got)+len(tt.wantGets) > 0 {
				t.Errorf("destination lookups %q, want %q", got, tt.wantGets)
			}
			if b.dst.listCalls != tt.wantLists {
				t.Errorf("destination listed %d times, want %d", b.dst.listCalls, tt.wantLists)
			}
			if len(b.dst.created) > 1 {
				t.Errorf("created %+v: mirror/a exists", b.dst.created)
			}
		})
	}
}
