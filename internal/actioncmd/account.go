package actioncmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// maxRepoAnnotations bounds the ::error:: annotations of one run: GitHub
// shows only the first few per step, and the summary lists every failure.
const maxRepoAnnotations = 10

// accountRun is one account-mode run: the inputs, both sides' clients and
// what the repositories share.
type accountRun struct {
	app      *App
	c        *console
	o        *accountOptions
	src, dst forge.Forge
	srcCred  forge.Credentials // Git credentials of the source
	dstCred  forge.Credentials
	hc       *http.Client // shared by every sync, so connections are reused
	dstKind  kindCache    // what the destination owner is
	dstIndex *dstIndex    // what exists there; nil: look each repository up
	board    *board       // progress of the running syncs; prints one line at a time
}

// mirrorAccount mirrors every selected repository of an account and
// reports, even when listing failed, so later steps can read what happened.
func (a *App) mirrorAccount(ctx context.Context, c *console, sec secrets, get func(string) string) error {
	o, err := parseAccount(get, a.Getenv, sec)
	if err != nil {
		return err
	}
	if err := checkAccountHTTP(o, get, func(msg string) { c.warningf("%s", msg) }); err != nil {
		return err
	}
	bd := a.newBoard(c)
	defer bd.stop()
	o.sync.Logger = c.loggerTo(bd.writer(c.stderr))
	mode := ""
	if o.sync.DryRun {
		mode = " (dry run)"
	}
	c.printf("Mirroring the repositories of %s to %s%s", o.source, o.destination, mode)

	r := &accountRun{app: a, c: c, o: o, hc: mirror.DefaultHTTPClient(), board: bd}
	o.sync.HTTPClient = r.hc
	results, runErr := r.run(ctx)
	bd.stop()
	rep := newAccountReport(o, results, runErr, c.red, a.Now())
	fmt.Fprint(c.stdout, accountTable(rep))
	path, werr := writeReport(rep, c.red, a.Getenv, a.Getwd)
	if werr == nil {
		c.printf("Report: %s", path)
	}
	reportErr := errors.Join(werr, setAccountOutputs(c, rep, path), c.addSummary(accountMarkdown(rep)))
	if runErr == nil && rep.OK {
		return reportErr
	}
	if reportErr != nil {
		c.errorf("gitee-mirror: report", "%v", reportErr)
	}
	if runErr != nil {
		return &syncError{err: runErr}
	}
	r.annotate(rep)
	return &reposError{failed: rep.FailedRepos, diverged: rep.DivergedRepos, kept: rep.KeptRepos}
}

// run builds the clients, selects the repositories and mirrors them. An
// error means nothing could run at all.
func (r *accountRun) run(ctx context.Context) ([]repoResult, error) {
	warn := func(msg string) { r.c.warningf("%s", msg) }
	var err error
	if r.src, err = r.app.newForge(ctx, forgeSpec{account: r.o.source, web: r.o.hosts.web(r.o.source.site), api: r.o.hosts.api(r.o.source.site), warn: warn}); err != nil {
		return nil, fmt.Errorf("source %s: %w", r.o.source, err)
	}
	if r.dst, err = r.app.newForge(ctx, forgeSpec{account: r.o.destination, web: r.o.hosts.web(r.o.destination.site), api: r.o.hosts.api(r.o.destination.site), warn: warn}); err != nil {
		return nil, fmt.Errorf("destination %s: %w", r.o.destination, err)
	}
	r.srcCred, r.dstCred = credentials(r.src, r.o.source), credentials(r.dst, r.o.destination)

	var jobs []*job
	if r.o.repositories != nil {
		jobs = r.o.sel.fixedJobs(r.o.repositories)
	} else {
		repos, err := r.src.ListRepos(ctx, r.o.source.owner, r.o.kind)
		if err != nil {
			return nil, fmt.Errorf("listing the repositories of %s: %w", r.o.source, err)
		}
		jobs = r.o.sel.listedJobs(repos)
		if runnable(jobs) > 0 {
			r.dstIndex = r.scanDestination(ctx)
		}
	}
	for _, m := range r.o.sel.unusedMappings(jobs) {
		r.c.warningf("mappings: %s matches no repository of %s", m, r.o.source)
	}
	return r.mirrorAll(ctx, jobs), nil
}

// mirrorAll runs the jobs on concurrency workers and returns their results
// in the jobs' order. One repository's failure does not stop the others.
func (r *accountRun) mirrorAll(ctx context.Context, jobs []*job) []repoResult {
	results := make([]repoResult, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(r.o.concurrency, max(len(jobs), 1)) {
		wg.Go(func() {
			for i := range next {
				log := r.repoLog(jobs[i])
				results[i] = r.mirrorRepo(ctx, jobs[i])
				r.progress(results[i], log)
			}
		})
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

// repoLog gives a repository its own logger. In Actions its lines are kept
// and printed inside the repository's group when it is done, so that
// concurrent repositories do not interleave there; elsewhere they go to
// stderr as they come. It returns the kept lines, or nil.
func (r *accountRun) repoLog(j *job) *logBuffer {
	if !r.c.actions {
		j.log = r.o.sync.Logger.With(slog.String("repository", j.name))
		return nil
	}
	buf := &logBuffer{}
	j.log = r.c.loggerTo(r.c.red.Writer(buf)).With(slog.String("repository", j.name))
	return buf
}

// logBuffer is a repository's log, written by its sync's goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// runnable counts the jobs that will be mirrored.
func runnable(jobs []*job) int {
	n := 0
	for _, j := range jobs {
		if j.skip == "" && j.fail == "" {
			n++
		}
	}
	return n
}

// progress prints one line per finished repository; repositories left out
// by include or exclude are only counted.
func (r *accountRun) progress(res repoResult, log *logBuffer) {
	if res.filtered {
		return
	}
	line := fmt.Sprintf("%-8s %s → %s", res.Status, res.Source, res.Destination)
	if d := repoDetail(res); d != "" {
		line += ": " + d
	}
	line = fmt.Sprintf("%s (%s)", line, seconds(res.Time))
	r.board.print(func() {
		if !r.c.actions {
			r.c.printf("%s", line)
			return
		}
		// One collapsible group per repository, holding its log.
		r.c.gha.Group(r.c.red.String(line))
		if log != nil {
			fmt.Fprint(r.c.stdout, log.String())
		}
		r.c.gha.EndGroup()
	})
}

// annotate raises an ::error:: annotation (a stderr line outside Actions)
// per failed or diverged repository, up to maxRepoAnnotations.
func (r *accountRun) annotate(rep *accountReport) {
	n := 0
	for _, res := range rep.Repos {
		if res.Status != statusFailed && res.Status != statusDiverged && res.Status != statusKept {
			continue
		}
		if n++; n > maxRepoAnnotations {
			break
		}
		r.c.errorf("gitee-mirror: "+res.Source, "%s → %s: %s: %s", res.Source, res.Destination, res.Status, repoDetail(res))
	}
}

// web and api return a site's addresses.
func (h hosts) web(s site) string {
	if s == siteGitee {
		return h.gitee
	}
	return h.github
}

func (h hosts) api(s site) string {
	if s == siteGitee {
		return h.giteeAPI
	}
	return h.githubAPI
}

// reposError says how many repositories failed or diverged; each was
// reported already.
type reposError struct{ failed, diverged, kept int }

func (e *reposError) Error() string {
	var parts []string
	if e.failed > 0 {
		parts = append(parts, plural(e.failed, "repository", "repositories")+" failed")
	}
	if e.diverged > 0 {
		parts = append(parts, plural(e.diverged, "repository has", "repositories have")+" diverged refs")
	}
	if e.kept > 0 {
		parts = append(parts, plural(e.kept, "repository has", "repositories have")+" refs that prune kept")
	}
	return strings.Join(parts, ", ") + " (see above); the other repositories were mirrored"
}

// plural is "1 thing" or "n things".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
