package githubapp

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/google/go-github/v62/github"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
)

// maxOutput is GitHub's limit on a check run's summary and text.
const maxOutput = 65535

// CheckRun is a check run to create or update (declared in forge, where
// the callers see it).
type CheckRun = forge.CheckRun

// status fills defaults.
func checkStatus(cr CheckRun) (name, status string) {
	name, status = cr.Name, cr.Status
	if name == "" {
		name = forge.CheckRunName
	}
	if status == "" {
		status = forge.CheckInProgress
		if cr.Conclusion != "" {
			status = forge.CheckCompleted
		}
	}
	return name, status
}

func checkOutput(cr CheckRun) *github.CheckRunOutput {
	if cr.Title == "" && cr.Summary == "" && cr.Text == "" {
		return nil
	}
	title := cr.Title
	if title == "" {
		title = forge.CheckRunName
	}
	out := &github.CheckRunOutput{Title: github.String(title), Summary: github.String(cut(cr.Summary))}
	if cr.Text != "" {
		out.Text = github.String(cut(cr.Text))
	}
	for i, a := range cr.Annotations {
		if i == forge.MaxAnnotations {
			break
		}
		line := max(a.Line, 1)
		out.Annotations = append(out.Annotations, &github.CheckRunAnnotation{
			Path: github.String(a.Path), StartLine: github.Int(line), EndLine: github.Int(line),
			AnnotationLevel: github.String("failure"), Title: optional(a.Title), Message: github.String(a.Message),
		})
	}
	return out
}

// CreateCheckRun creates a check run on headSHA and returns its id. It needs
// the App's "checks: write" permission. The request is not repeated after a
// server error, so that one sync never leaves two check runs.
func (c *Client) CreateCheckRun(ctx context.Context, owner, name, headSHA string, cr CheckRun) (id int64, err error) {
	if err := checkNames(owner, name); err != nil {
		return 0, err
	}
	if headSHA == "" {
		return 0, failure.New(failure.Invalid, "create a check run on %s/%s: no commit given", owner, name)
	}
	crName, status := checkStatus(cr)
	if status == forge.CheckCompleted && cr.Conclusion == "" {
		return 0, failure.New(failure.Invalid, "create a check run on %s/%s: a completed check run needs a conclusion", owner, name)
	}
	opts := github.CreateCheckRunOptions{
		Name:       crName,
		HeadSHA:    headSHA,
		DetailsURL: optional(cr.DetailsURL),
		ExternalID: optional(cr.ExternalID),
		Status:     github.String(status),
		Conclusion: optional(cr.Conclusion),
		Output:     checkOutput(cr),
	}
	if cr.Conclusion != "" {
		opts.CompletedAt = &github.Timestamp{Time: time.Now()}
	}
	o := checksOp(fmt.Sprintf("create check run %q on %s in %s/%s", crName, short(headSHA), owner, name))
	var run *github.CheckRun
	err = c.retry.do(ctx, false, func() (resp *github.Response, err error) {
		run, resp, err = c.gh.Checks.CreateCheckRun(ctx, owner, name, opts)
		return resp, err
	})
	if err != nil {
		return 0, c.fail(err, o)
	}
	return run.GetID(), nil
}

// UpdateCheckRun changes a check run made by CreateCheckRun, e.g. to
// complete it with a conclusion. Updating is idempotent and retried.
func (c *Client) UpdateCheckRun(ctx context.Context, owner, name string, id int64, cr CheckRun) error {
	if err := checkNames(owner, name); err != nil {
		return err
	}
	crName, status := checkStatus(cr)
	opts := github.UpdateCheckRunOptions{
		Name:       crName,
		DetailsURL: optional(cr.DetailsURL),
		ExternalID: optional(cr.ExternalID),
		Status:     github.String(status),
		Conclusion: optional(cr.Conclusion),
		Output:     checkOutput(cr),
	}
	if cr.Conclusion != "" {
		opts.CompletedAt = &github.Timestamp{Time: time.Now()}
	}
	o := checksOp(fmt.Sprintf("update check run %d in %s/%s", id, owner, name))
	err := c.retry.do(ctx, true, func() (resp *github.Response, err error) {
		_, resp, err = c.gh.Checks.UpdateCheckRun(ctx, owner, name, id, opts)
		return resp, err
	})
	return c.fail(err, o)
}

func checksOp(what string) op {
	return op{what: what,
		forbidden: "check runs need the App's 'checks: write' permission: accept it in the installation's settings",
		notFound:  "the repository or the check run does not exist, or the App cannot see it",
		invalid:   "the commit may not exist in the repository, or a value is not one GitHub accepts"}
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return github.String(s)
}

// short abbreviates a commit id for messages.
func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// cut shortens s to GitHub's output limit on a rune boundary.
func cut(s string) string {
	if len(s) <= maxOutput {
		return s
	}
	const more = "\n\n…(cut)"
	s = s[:maxOutput-len(more)]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + more
}
