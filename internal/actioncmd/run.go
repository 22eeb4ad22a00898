package actioncmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// run mirrors once and reports. The error it returns has been printed
// already; exitCode maps it to the exit status.
func (a *App) run(ctx context.Context) error {
	// Tokens come first, so they are masked before anything is printed.
	sec := readSecrets(a.Getenv)
	c := newConsole(a, sec.all())
	err := a.mirror(ctx, c, sec)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		c.errorf(title(err), "%s", describe(err))
	}
	return err
}

// mirror reads the inputs, syncs (one repository, or with an account as
// source every selected repository of it: see mirrorAccount), and writes the report, outputs and summary
// even when the sync failed, so that later steps can read what happened.
func (a *App) mirror(ctx context.Context, c *console, sec secrets) error {
	if len(a.Args) > 0 && a.Args[0] == "demo" {
		return a.demo(ctx, c, a.Args[1:])
	}
	flags, err := parseFlags(a.Args, c.stdout)
	if err != nil {
		return err
	}
	get := func(name string) string {
		if v, ok := flags[name]; ok {
			return v
		}
		return c.gha.GetInput(name)
	}
	if _, _, ok := accountRef(get(inSource)); ok {
		return a.mirrorAccount(ctx, c, sec, get)
	}
	ro, err := parseRepo(get, a.Getenv, sec, func(msg string) { c.warningf("%s", msg) })
	if err != nil {
		return err
	}
	rel, err := parseReleases(get, ro, sec, func(msg string) { c.warningf("%s", msg) })
	if err != nil {
		return err
	}
	srcName, dstName := ro.src.display(ro.sync.Source.URL), ro.dst.display(ro.sync.Target.URL)
	stopLocal, err := serveLocal(c, ro)
	if err != nil {
		return err
	}
	defer stopLocal()
	bd := a.newBoard(c)
	defer bd.stop()
	ro.sync.Logger = c.loggerTo(bd.writer(c.stderr))
	opts := ro.sync
	mode := ""
	if opts.DryRun {
		mode = " (dry run)"
	}
	c.printf("Mirroring %s to %s%s", srcName, dstName, mode)

	var doneProgress func()
	ro.sync.Progress, doneProgress = bd.track("")
	res, note, syncErr := a.syncCreating(ctx, c, ro)
	doneProgress()
	bd.stop()
	if res == nil {
		res = &mirror.Result{}
	}
	if note != "" {
		c.printf("%s", note)
	}
	if syncErr == nil && !res.SourceEmpty {
		for _, w := range unmatchedFilters(opts, res) {
			c.warningf("%s", w)
		}
	}
	rep := newReport(opts, res, syncErr, c.red, a.Now())
	rep.Note = c.red.String(note)
	rep.Source, rep.Destination = srcName, dstName
	if rel != nil && syncErr == nil {
		relRes, relErr := a.runReleases(ctx, c, rel, res, opts)
		rep.Releases = newReleasesReport(relRes, relErr, c.red)
		rep.OK = rep.OK && rep.Releases.ok()
	}
	if line := lfsLine(rep.LFS); line != "" {
		c.printf("%s", line)
	}
	fmt.Fprint(c.stdout, plainTable(rep, c.red)+conflictGuide(res, opts.Source.URL, opts.Target.URL, false)+rep.Releases.plain())
	path, werr := writeReport(rep, c.red, a.Getenv, a.Getwd)
	if werr == nil {
		c.printf("Report: %s", path)
	}
	reportErr := errors.Join(werr, setOutputs(c, rep, path), c.setOutput(outReleases, strconv.Itoa(rep.Releases.changed())),
		c.setOutput(outLFSObjects, strconv.Itoa(lfsUploaded(res))),
		c.addSummary(markdown(rep, c.red)+lfsMarkdown(rep.LFS)+conflictGuide(res, opts.Source.URL, opts.Target.URL, true)+rep.Releases.markdown()))

	var bad []mirror.RefResult
	for _, r := range res.Refs {
		if !r.OK() || keptOutOfSync(r, outOfSync(opts)) {
			bad = append(bad, r)
		}
	}
	relBad := rep.Releases.problems()
	if syncErr == nil && len(bad) == 0 && len(relBad) == 0 && lfsComplete(res) {
		return reportErr
	}
	if reportErr != nil {
		c.errorf("gitee-mirror: report", "%v", reportErr)
	}
	for _, r := range bad {
		c.errorf("gitee-mirror: "+r.Ref, "%s: %s", r.Ref, join(": ", string(r.Outcome), refMessage(r)))
	}
	for _, p := range relBad {
		c.errorf("gitee-mirror: releases", "%s", p)
	}
	if !lfsComplete(res) {
		c.errorf("gitee-mirror: LFS", "%s", lfsLine(rep.LFS))
	}
	if syncErr != nil {
		return &syncError{err: syncErr}
	}
	if len(bad) == 0 && len(relBad) == 0 {
		return &lfsError{missing: rep.LFS.Missing}
	}
	if len(bad) == 0 {
		return &releasesError{n: len(relBad)}
	}
	return &refsError{n: len(bad)}
}

// title heads an error annotation.
func title(err error) string {
	var (
		in    *inputError
		sync  *syncError
		refs  *refsError
		repos *reposError
	)
	switch {
	case errors.As(err, &in):
		return "gitee-mirror: bad input"
	case errors.As(err, &sync):
		return "gitee-mirror: sync failed"
	case errors.As(err, &refs):
		return "gitee-mirror: refs not in sync"
	case errors.As(err, &repos):
		return "gitee-mirror: repositories not in sync"
	case errors.As(err, new(*releasesError)):
		return "gitee-mirror: releases not in sync"
	case errors.As(err, new(*lfsError)):
		return "gitee-mirror: LFS objects missing"
	}
	return "gitee-mirror"
}

// describe says what went wrong, led by the failure class for a failed sync
// ("auth: …") so a person knows where to look.
func describe(err error) string {
	var sync *syncError
	if !errors.As(err, &sync) {
		return err.Error()
	}
	if errors.Is(err, context.Canceled) {
		return "interrupted: " + err.Error()
	}
	class, msg := string(failure.ClassOf(err)), err.Error()
	if strings.Contains(msg, class+": ") {
		return msg
	}
	return class + ": " + msg
}
