package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/logkey"
	"github.com/gitee-mirror/gitee-mirror/internal/repoconfig"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// SettingsCheckName is the check run that says whether a commit's
// .github/gitee-mirror.yml is valid.
const SettingsCheckName = "Gitee mirror settings"

// headCommit is the commit branch names now, or "" when the site cannot
// say (no forge.Commits) or the branch has none yet (an empty repository).
func headCommit(ctx context.Context, gh forge.Forge, owner, name, branch string) (string, error) {
	commits, ok := gh.(forge.Commits)
	if !ok || branch == "" {
		return "", nil
	}
	sha, err := commits.CommitSHA(ctx, owner, name, branch)
	switch {
	case err == nil:
		return sha, nil
	case failure.IsTransient(err):
		return "", err
	}
	return "", nil // read at the branch itself, which says what is missing
}

// configInvalid records why repo's settings file does not parse, for its
// pages, and fails a check run on the commit that has the file: each
// problem with its line, key and what to write instead. The mirrors keep
// their last valid settings.
func (r *DefaultRunner) configInvalid(ctx context.Context, log *slog.Logger, repo *store.Mirror, commit string, parseErr error) {
	problems := repoconfig.Problems(parseErr)
	if len(problems) == 0 {
		problems = []store.ConfigError{{Message: parseErr.Error()}}
	}
	p := &store.ConfigProblem{InstallationID: repo.InstallationID, GitHubRepoID: repo.GitHubRepoID,
		Repo: repo.A.FullName(), CommitSHA: commit, Errors: problems}
	if err := r.cfg.Store.SetConfigProblem(ctx, p); err != nil {
		log.Error("could not record the settings file's problems", slog.Any(logkey.Error, err))
	}
	if commit == "" {
		return
	}
	cr := forge.CheckRun{Name: SettingsCheckName, Conclusion: forge.ConclusionFailure,
		Title:   fmt.Sprintf("%s is not valid: %s", repoconfig.Path, count(len(problems), "problem")),
		Summary: problemsSummary(problems)}
	for _, e := range problems {
		cr.Annotations = append(cr.Annotations, forge.Annotation{Path: repoconfig.Path, Line: e.Line, Title: e.Key, Message: e.Message})
	}
	r.settingsCheck(ctx, log, repo, commit, cr)
}

// configValid forgets repo's recorded problems once a valid file (or
// none) was read and, when there were some, passes a check run on the
// commit that fixed them.
func (r *DefaultRunner) configValid(ctx context.Context, log *slog.Logger, repo *store.Mirror, commit string, mirrors int) {
	_, err := r.cfg.Store.ConfigProblem(ctx, repo.GitHubRepoID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return
	case err != nil:
		log.Error("could not read the settings file's recorded problems", slog.Any(logkey.Error, err))
		return
	}
	if err := r.cfg.Store.ClearConfigProblem(ctx, repo.GitHubRepoID); err != nil {
		log.Error("could not clear the settings file's problems", slog.Any(logkey.Error, err))
	}
	if commit == "" {
		return
	}
	r.settingsCheck(ctx, log, repo, commit, forge.CheckRun{Name: SettingsCheckName, Conclusion: forge.ConclusionSuccess,
		Title:   fmt.Sprintf("%s is valid: %s", repoconfig.Path, count(mirrors, "mirror")),
		Summary: fmt.Sprintf("The settings file is valid again; its %s now follow it.", count(mirrors, "mirror"))})
}

// settingsCheck creates a settings check run; failing is logged.
func (r *DefaultRunner) settingsCheck(ctx context.Context, log *slog.Logger, repo *store.Mirror, commit string, cr forge.CheckRun) {
	gh, ok := r.checksSite(ctx, log, repo)
	if !ok {
		return
	}
	if _, err := gh.CreateCheckRun(ctx, repo.A.Owner, repo.A.Name, commit, cr); err != nil {
		log.Warn("could not create the settings check run", slog.String("sha", commit), slog.String(logkey.ErrorClass, string(failure.ClassOf(err))), slog.Any(logkey.Error, err))
		if refusedToken(err) {
			r.forgetToken(repo)
		}
	}
}

// problemsNote is what a sync's check run adds while the repository's
// settings file has problems: the sync used the last valid settings.
func (r *DefaultRunner) problemsNote(ctx context.Context, log *slog.Logger, m *store.Mirror) string {
	p, err := r.cfg.Store.ConfigProblem(ctx, m.GitHubRepoID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ""
	case err != nil:
		log.Warn("could not read the settings file's recorded problems", slog.Any(logkey.Error, err))
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n**`%s` is not valid**, so this sync used the mirror's last valid settings (see the %q check):\n\n", repoconfig.Path, SettingsCheckName)
	for _, e := range p.Errors {
		fmt.Fprintf(&b, "- %s\n", cell(problemText(e)))
	}
	return b.String()
}

// problemsSummary is the Markdown table of a file's problems.
func problemsSummary(problems []store.ConfigError) string {
	var b strings.Builder
	fmt.Fprintf(&b, "The mirrors of this repository keep their last valid settings until `%s` is fixed.\n\n", repoconfig.Path)
	b.WriteString("| Line | Key | Problem and what to write instead |\n|---|---|---|\n")
	for _, e := range problems {
		line := "—"
		if e.Line > 0 {
			line = fmt.Sprint(e.Line)
		}
		key := "—"
		if e.Key != "" {
			key = "`" + cell(e.Key) + "`"
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", line, key, cell(e.Message))
	}
	return b.String()
}

// problemText is one problem as a line of text: "line 3, direction: …".
func problemText(e store.ConfigError) string {
	var where []string
	if e.Line > 0 {
		where = append(where, fmt.Sprintf("line %d", e.Line))
	}
	if e.Key != "" {
		where = append(where, e.Key)
	}
	if len(where) == 0 {
		return e.Message
	}
	return strings.Join(where, ", ") + ": " + e.Message
}

// count is "1 mirror" or "2 mirrors".
func count(n int, word string) string {
	return fmt.Sprintf("%d %s", n, plural(n, word, word+"s"))
}
