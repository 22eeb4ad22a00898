package actioncmd

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/release"
)

// The releases input: after the refs, mirror published releases and their
// assets (internal/release). Both sides must be on GitHub or Gitee.
const (
	inReleases      = "releases"
	defaultReleases = "false"
	outReleases     = "releases"
)

// releaseSide is one repository whose releases are read or written.
type releaseSide struct {
	account
	name string
}

// releaseSpec is a one-repository run's releases setting; nil when off.
type releaseSpec struct {
	src, dst releaseSide
	hosts    hosts
}

// readReleases reads the releases input of an account-mode run.
func readReleases(get func(string) string) (bool, error) {
	return boolean(inReleases, or(get(inReleases), defaultReleases))
}

// parseReleases reads the releases input of a one-repository run and, when
// it is on, the API side of both repositories, whose addresses get the same
// plain-http:// check as the Git ones.
func parseReleases(get func(string) string, ro *repoOptions, sec secrets, warn func(string)) (*releaseSpec, error) {
	on, err := readReleases(get)
	if err != nil || !on {
		return nil, err
	}
	spec := &releaseSpec{hosts: ro.hosts}
	if spec.src, err = releaseRepo(inSource, ro.src, get(inSourceUsername), sec.source, inSourceToken, sec); err != nil {
		return nil, err
	}
	if spec.dst, err = releaseRepo(inDestination, ro.dst, get(inDestinationUsername), sec.destination, inDestinationToken, sec); err != nil {
		return nil, err
	}
	allow, err := boolean(inAllowHTTP, or(get(inAllowHTTP), defaultAllowHTTP))
	if err != nil {
		return nil, err
	}
	for _, s := range []releaseSide{spec.src, spec.dst} {
		if err := checkPlainHTTP(s.role, ro.hosts.api(s.site), s.token != "", allow, warn); err != nil {
			return nil, err
		}
	}
	return spec, nil
}

// releaseRepo checks one side for releases: it must be on the GitHub or
// Gitee server, whose API keeps them.
func releaseRepo(name string, r repo, username, token, tokenInput string, sec secrets) (releaseSide, error) {
	if r.site == siteOther {
		return releaseSide{}, inputErrorf(inReleases, "releases are mirrored between GitHub and Gitee only: give %s as github/OWNER/REPO or gitee/OWNER/REPO", name)
	}
	u, err := url.Parse(r.url)
	if err != nil {
		return releaseSide{}, inputErrorf(name, "%s", shortForm)
	}
	a := account{role: name, site: r.site, owner: r.owner, token: token, tokenInput: tokenInput, username: username}
	if a.token == "" && r.site == siteGitHub && sec.github != "" {
		a.token, a.tokenInput = sec.github, inGitHubToken
	}
	if a.token == "" && r.site == siteGitee {
		return releaseSide{}, inputErrorf(tokenInput, "releases on Gitee need a personal access token (scope projects): set the %s input or the %s variable", tokenInput, secretEnv(tokenInput))
	}
	return releaseSide{account: a, name: strings.TrimSuffix(path.Base(u.Path), ".git")}, nil
}

// releasesOf finds the releases capability of a side's client.
func releasesOf(f forge.Forge, a account) (forge.Releases, error) {
	rs, ok := f.(forge.Releases)
	if !ok {
		return nil, failure.New(failure.Invalid, "the %s client of %s cannot mirror releases", a.site, a.role)
	}
	return rs, nil
}

// mirrorReleases runs the releases sync of one repository once its refs are
// mirrored: a release is copied only where its tag landed (res).
func mirrorReleases(ctx context.Context, src, dst forge.Forge, s releaseSpec, res *mirror.Result, opts mirror.Options) (*release.Result, error) {
	sr, err := releasesOf(src, s.src.account)
	if err != nil {
		return nil, err
	}
	dr, err := releasesOf(dst, s.dst.account)
	if err != nil {
		return nil, err
	}
	return release.Sync(ctx, release.Options{
		Source:      release.Side{Releases: sr, Owner: s.src.owner, Name: s.src.name},
		Target:      release.Side{Releases: dr, Owner: s.dst.owner, Name: s.dst.name},
		TagOnTarget: release.TagsFrom(res),
		DryRun:      opts.DryRun,
		Logger:      opts.Logger,
	})
}

// runReleases builds both clients of a one-repository run and mirrors the
// releases.
func (a *App) runReleases(ctx context.Context, c *console, s *releaseSpec, res *mirror.Result, opts mirror.Options) (*release.Result, error) {
	warn := func(msg string) { c.warningf("%s", msg) }
	src, err := a.newForge(ctx, forgeSpec{account: s.src.account, web: s.hosts.web(s.src.site), api: s.hosts.api(s.src.site), warn: warn})
	if err != nil {
		return nil, fmt.Errorf("releases: source %s: %w", s.src.account, err)
	}
	dst, err := a.newForge(ctx, forgeSpec{account: s.dst.account, web: s.hosts.web(s.dst.site), api: s.hosts.api(s.dst.site), warn: warn})
	if err != nil {
		return nil, fmt.Errorf("releases: destination %s: %w", s.dst.account, err)
	}
	return mirrorReleases(ctx, src, dst, *s, res, opts)
}

// releasesReport is the releases part of a report: the result with every
// message redacted, or why the releases could not be mirrored at all.
type releasesReport struct {
	*release.Result
	Error *reportError `json:"error,omitempty"`
}

// newReleasesReport redacts res and err; nil when releases were off.
func newReleasesReport(res *release.Result, err error, red *redactor) *releasesReport {
	if res == nil && err == nil {
		return nil
	}
	out := &releasesReport{}
	if res != nil {
		cp := *res
		cp.Releases = make([]release.ReleaseResult, len(res.Releases))
		for i, r := range res.Releases {
			r.Message = red.String(r.Message)
			assets := make([]release.AssetResult, len(r.Assets))
			for k, a := range r.Assets {
				a.Message = red.String(a.Message)
				assets[k] = a
			}
			r.Assets = assets
			cp.Releases[i] = r
		}
		out.Result = &cp
	}
	if err != nil {
		out.Error = &reportError{Class: failure.ClassOf(err), Message: red.String(err.Error())}
	}
	return out
}

// ok reports whether nothing went wrong with the releases.
func (r *releasesReport) ok() bool { return r == nil || (r.Error == nil && r.Result.OK()) }

// changed is the releases output: releases created or updated.
func (r *releasesReport) changed() int {
	if r == nil || r.Result == nil {
		return 0
	}
	return r.Result.Changed()
}

// problems lists what went wrong, one line each, for error annotations.
func (r *releasesReport) problems() []string {
	if r == nil {
		return nil
	}
	var out []string
	if r.Error != nil {
		out = append(out, "releases: "+join(": ", string(r.Error.Class), r.Error.Message))
	}
	if r.Result == nil {
		return out
	}
	for _, rel := range r.Releases {
		if rel.Outcome == release.Failed {
			out = append(out, "release "+rel.Tag+": "+join(": ", string(rel.Class), rel.Message))
		}
		for _, a := range rel.Assets {
			if a.Outcome == release.Failed {
				out = append(out, "release "+rel.Tag+", asset "+a.Name+": "+join(": ", string(a.Class), a.Message))
			}
		}
	}
	return out
}

// releaseRow is a release or asset in the tables; unchanged ones are
// counted, not listed.
type releaseRow struct{ what, outcome, message string }

func (r *releasesReport) rows() (out []releaseRow, unchanged int) {
	if r == nil || r.Result == nil {
		return nil, 0
	}
	for _, rel := range r.Releases {
		if rel.Outcome != release.Unchanged {
			out = append(out, releaseRow{what: rel.Tag, outcome: string(rel.Outcome), message: oneLine(rel.Message)})
		} else {
			unchanged++
		}
		for _, a := range rel.Assets {
			if a.Outcome != release.Unchanged {
				out = append(out, releaseRow{what: rel.Tag + " / " + a.Name + " (" + strconv.FormatInt(a.Size, 10) + " bytes)",
					outcome: string(a.Outcome), message: oneLine(join(": ", string(a.Class), a.Message))})
			}
		}
	}
	return out, unchanged
}

// tally is the one-line count under the releases tables.
func (r *releasesReport) tally(unchanged int) string {
	s := fmt.Sprintf("releases: %d created or updated, %d already in sync", r.changed(), unchanged)
	if r.Result != nil {
		s += fmt.Sprintf(", %d assets uploaded (%d bytes)", r.Uploaded, r.Bytes)
		if r.Drafts > 0 {
			s += fmt.Sprintf(", %d drafts not copied", r.Drafts)
		}
		if r.Kept > 0 {
			s += fmt.Sprintf(", %d only on the destination (kept)", r.Kept)
		}
	}
	if r.Error != nil {
		s += "; failed: " + oneLine(r.Error.Message)
	}
	return s
}

// plain renders the releases for the log.
func (r *releasesReport) plain() string {
	if r == nil {
		return ""
	}
	var b strings.Builder
	rows, unchanged := r.rows()
	if len(rows) > 0 {
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "RELEASE\tOUTCOME\tMESSAGE")
		for _, row := range rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", row.what, row.outcome, row.message)
		}
		tw.Flush()
	}
	fmt.Fprintln(&b, r.tally(unchanged))
	return b.String()
}

// markdown renders the releases for the step summary.
func (r *releasesReport) markdown() string {
	if r == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n#### Releases\n\n")
	rows, unchanged := r.rows()
	if len(rows) > 0 {
		b.WriteString("| Release / asset | Outcome | Message |\n| --- | --- | --- |\n")
		for i, row := range rows {
			if i == maxSummaryRows {
				fmt.Fprintf(&b, "\n… and %d more: see the report file.\n", len(rows)-i)
				break
			}
			fmt.Fprintf(&b, "| %s | %s | %s |\n", md(row.what), md(row.outcome), md(row.message))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%s\n", md(r.tally(unchanged)))
	return b.String()
}

// releasesError says that releases or assets could not be mirrored; each
// was reported already. The refs are in sync.
type releasesError struct{ n int }

func (e *releasesError) Error() string {
	return plural(e.n, "release or asset", "releases or assets") + " could not be mirrored (see above); the refs are in sync"
}

// releases mirrors one account-mode repository's releases after its refs;
// trouble with them fails the repository, with the first problem as note.
func (r *accountRun) releases(ctx context.Context, j *job, out *mirror.Result, opts mirror.Options, res *repoResult) {
	spec := releaseSpec{src: releaseSide{account: r.o.source, name: j.name}, dst: releaseSide{account: r.o.destination, name: j.target}}
	relRes, err := mirrorReleases(ctx, r.src, r.dst, spec, out, opts)
	res.Releases = newReleasesReport(relRes, err, r.c.red)
	if p := res.Releases.problems(); len(p) > 0 {
		res.Status = statusFailed
		note := p[0]
		if len(p) > 1 {
			note += fmt.Sprintf(" (and %d more: see the report)", len(p)-1)
		}
		res.Note = join("; ", res.Note, note)
	}
	if n := res.Releases.changed(); n > 0 {
		res.Note = join("; ", res.Note, plural(n, "release", "releases")+" created or updated")
	}
}
