package settings

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/jobs"
	"github.com/gitee-mirror/gitee-mirror/internal/logkey"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/gitee-mirror/gitee-mirror/internal/validate"
)

const runsShown = 10

// mirrorView is a mirror with what its page shows.
type mirrorView struct {
	M        *store.Mirror
	State    string // in sync, syncing, diverged, failing, paused, new
	Advice   string // what to do about the last error
	Runs     []*store.SyncRun
	Diverged []mirror.RefResult
	// Conflicts are a two-way mirror's refs changed on both sides, with
	// the commands that resolve them.
	Conflicts []jobs.Conflict
	HookURL   string
	FromFile  bool
	// Progress of the running sync, for people ("" when none runs or it
	// has not moved objects yet): stored by whichever replica runs it.
	Progress string
}

// access is the checked context of a repository request.
type access struct {
	in    *installation
	repo  *repo
	level string
	admin bool
}

// repoAccess checks {inst} and {repo} against what GitHub lets the user
// see, and asks GitHub for the user's permission on the repository.
func (h *Handler) repoAccess(ctx context.Context, r *http.Request, s *session) (*access, error) {
	in, err := h.visibleInstallation(ctx, r, s)
	if err != nil {
		return nil, err
	}
	id, err := strconv.ParseInt(r.PathValue("repo"), 10, 64)
	if err != nil || id <= 0 {
		return nil, errNotVisible
	}
	rp, err := h.repo(ctx, s, in.ID, id)
	if err != nil {
		return nil, err
	}
	lvl, err := h.permission(ctx, s, rp)
	if err != nil {
		return nil, err
	}
	return &access{in: in, repo: rp, level: lvl, admin: lvl == "admin"}, nil
}

func (a *access) path() string {
	return fmt.Sprintf("%s/installations/%d/repos/%d", Prefix, a.in.ID, a.repo.ID)
}

// repoMirrors are the mirrors of the repository in the installation.
func (h *Handler) repoMirrors(ctx context.Context, a *access) ([]*store.Mirror, error) {
	return h.opts.Store.ListMirrors(ctx, store.MirrorFilter{InstallationID: a.in.ID, GitHubRepoID: a.repo.ID})
}

// repoPage shows the repository's mirrors, their state and history, and
// (for admins) the forms that change them.
func (h *Handler) repoPage(w http.ResponseWriter, r *http.Request, s *session) {
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	a, err := h.repoAccess(ctx, r, s)
	if err != nil {
		h.handleErr(w, r, s, err)
		return
	}
	h.renderRepo(w, r, s, a, http.StatusOK, "")
}

func (h *Handler) renderRepo(w http.ResponseWriter, r *http.Request, s *session, a *access, status int, formErr string) {
	ctx := r.Context()
	ms, err := h.repoMirrors(ctx, a)
	if err != nil {
		h.handleErr(w, r, s, err)
		return
	}
	views := make([]mirrorView, 0, len(ms))
	fromFile := false
	for _, m := range ms {
		v, err := h.mirrorView(ctx, r, m)
		if err != nil {
			h.handleErr(w, r, s, err)
			return
		}
		fromFile = fromFile || v.FromFile
		views = append(views, v)
	}
	card, err := h.giteeCard(ctx, a.in.ID)
	if err != nil {
		h.handleErr(w, r, s, err)
		return
	}
	problem, err := h.opts.Store.ConfigProblem(ctx, a.repo.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		h.handleErr(w, r, s, err)
		return
	}
	h.render(w, r, s, status, logkey.Repo, a.repo.FullName(), map[string]any{
		"Problem":      problem,
		"Installation": a.in, "Repo": a.repo, "Level": a.level, "Admin": a.admin, "Mirrors": views,
		"FromFile": fromFile, "Gitee": card, "Path": a.path(), "FormError": formErr,
		"DefaultOwner": card.Login, "GiteeURL": h.opts.Config.GiteeURL,
	})
}

func (h *Handler) mirrorView(ctx context.Context, r *http.Request, m *store.Mirror) (mirrorView, error) {
	runs, err := h.opts.Store.ListRuns(ctx, m.ID, runsShown)
	if err != nil {
		return mirrorView{}, err
	}
	v := mirrorView{M: m, State: stateWords(m), Advice: advice(m.LastErrorClass), Runs: runs,
		FromFile: m.ConfigSource == store.SourceFile}
	if m.Direction.TwoWay() && m.LastErrorClass == "diverged" {
		v.Advice = conflictAdvice
	}
	if m.Direction.FromB() {
		v.HookURL = m.HookURL(h.baseURL(r))
	}
	if len(runs) > 0 && runs[0].Outcome == store.OutcomeRunning {
		p, err := h.opts.Store.Progress(ctx, m.ID)
		switch {
		case err == nil:
			v.Progress = jobs.ProgressText(p)
		case !errors.Is(err, store.ErrNotFound):
			return mirrorView{}, err
		}
	}
	for _, run := range runs {
		if run.Outcome == store.OutcomeRunning {
			continue
		}
		for _, ref := range run.Refs {
			if ref.Outcome == mirror.Diverged {
				v.Diverged = append(v.Diverged, ref)
			}
		}
		v.Conflicts = jobs.Conflicts(run.Refs, gitURL(h.opts.Config.GitHubURL, m.A), gitURL(h.opts.Config.GiteeURL, m.B))
		break // the newest finished run says what is diverged now
	}
	return v, nil
}

// gitURL is a side's Git URL under its site's web address, as people
// clone it.
func gitURL(web string, s store.Side) string {
	return strings.TrimSuffix(web, "/") + "/" + s.FullName() + ".git"
}

// conflictAdvice is what to do about a two-way mirror's conflicts.
const conflictAdvice = "Some refs changed on both GitHub and Gitee since the last sync; neither side was overwritten. " +
	"Keep one side's commit with the commands below, or merge the two and push the merge to both sides."

// stateWords is a mirror's state as people read it.
func stateWords(m *store.Mirror) string {
	if m.Paused {
		return "paused"
	}
	switch m.Status {
	case store.StatusInSync:
		return "in sync"
	case store.StatusNew:
		return "not synced yet"
	}
	return string(m.Status)
}

// advice says what to do about an error class.
func advice(class string) string {
	switch class {
	case "":
		return ""
	case "auth":
		return "A token was refused. Connect Gitee again with a fresh personal access token; if GitHub refused, check that the App is still installed."
	case "permission":
		return "A token lacks a permission: the Gitee token needs the projects scope (and hook for pull mirrors); pushing workflow files to GitHub needs the App's workflows permission."
	case "not-found":
		return "A repository is missing: it was deleted or renamed. Check the target, or tick \"create if missing\"."
	case "diverged":
		return "The target has commits the source lacks. Merge them into the source, or turn on force to overwrite the target (a backup ref is kept)."
	case "rejected":
		return "The target refused the push (a server hook, protected branch or quota). Read the message, fix it on that side, then Sync now."
	case "timeout", "network", "rate-limited":
		return "A temporary problem; it is retried on its own. If it lasts, check that this server can reach GitHub and Gitee."
	case "invalid":
		return "A setting is invalid: check the target and the filters."
	}
	return "An unexpected error: see the server's log, and report it."
}

// notice is a message for the person at the form: a whole sentence, shown
// as it is. It is an error so that form checks return it.
type notice string

func (n notice) Error() string { return string(n) }

// mirrorForm reads and checks the mirror form; a refusal is a notice.
func mirrorForm(r *http.Request, m *store.Mirror) error {
	owner := strings.TrimSpace(r.PostFormValue("gitee_owner"))
	if err := validate.Owner(validate.Gitee, owner); err != nil {
		return err
	}
	name, err := validate.Name(validate.Gitee, strings.TrimSpace(r.PostFormValue("gitee_name")))
	if err != nil {
		return err
	}
	m.B = store.Side{Site: forge.Gitee, Owner: owner, Name: name}
	d, err := store.DirectionOf(r.PostFormValue("direction"))
	if err != nil {
		return notice("Choose a direction: push (GitHub to Gitee), pull (Gitee to GitHub) or both (two-way).")
	}
	m.Direction = d
	m.Branches = splitList(r.PostFormValue("branches"))
	m.Tags = splitList(r.PostFormValue("tags"))
	m.NoTags = r.PostFormValue("no_tags") == "on"
	m.Force = r.PostFormValue("force") == "on"
	m.Prune = r.PostFormValue("prune") == "on"
	m.CreateMissing = r.PostFormValue("create_missing") == "on"
	m.Releases = r.PostFormValue("releases") == "on"
	lfs := "false"
	switch {
	case r.PostFormValue("lfs_required") == "on":
		lfs = "required"
	case r.PostFormValue("lfs") == "on":
		lfs = "true"
	}
	mode, err := validate.LFS(lfs)
	if err != nil {
		return err
	}
	m.LFS = mirror.LFSMode(mode)
	switch v := r.PostFormValue("visibility"); v {
	case "", "private", "public", "source":
		m.Visibility = v
		if v == "" {
			m.Visibility = "private"
		}
	default:
		return notice("Visibility is private, public or source.")
	}
	if err := validate.Patterns("branch", m.Branches); err != nil {
		return err
	}
	if err := validate.Patterns("tag", m.Tags); err != nil {
		return err
	}
	return validate.Force(m.Direction.TwoWay(), m.Force)
}

func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' || r == ' ' })
}

// adminAccess is repoAccess for changes: non-admins get 403.
func (h *Handler) adminAccess(ctx context.Context, w http.ResponseWriter, r *http.Request, s *session) (*access, bool) {
	a, err := h.repoAccess(ctx, r, s)
	if err != nil {
		h.handleErr(w, r, s, err)
		return nil, false
	}
	if !a.admin {
		h.fail(w, r, s, http.StatusForbidden, "Only people with admin permission on "+a.repo.FullName()+" may change its mirror; GitHub says yours is \""+a.level+"\".")
		return nil, false
	}
	return a, true
}

// createMirror adds a mirror of the repository.
func (h *Handler) createMirror(w http.ResponseWriter, r *http.Request, s *session) {
	ctx, cancel := context.WithTimeout(r.Context(), 60*time.Second)
	defer cancel()
	a, ok := h.adminAccess(ctx, w, r, s)
	if !ok {
		return
	}
	m := &store.Mirror{InstallationID: a.in.ID, GitHubRepoID: a.repo.ID, A: store.Side{Site: forge.GitHub, Owner: a.repo.Owner, Name: a.repo.Name}, ConfigSource: store.SourceSettings, Status: store.StatusNew}
	if err := mirrorForm(r, m); err != nil {
		h.renderRepo(w, r, s, a, http.StatusUnprocessableEntity, err.Error())
		return
	}
	if existing, err := h.repoMirrors(ctx, a); err == nil {
		for _, e := range existing {
			if e.ConfigSource == store.SourceFile {
				h.renderRepo(w, r, s, a, http.StatusConflict, "This repository's .github/gitee-mirror.yml sets its mirrors, and the file wins: change the file instead.")
				return
			}
		}
	}
	err := h.opts.Store.CreateMirror(ctx, m)
	if errors.Is(err, store.ErrConflict) {
		h.renderRepo(w, r, s, a, http.StatusConflict, "This repository already mirrors to "+m.B.FullName()+".")
		return
	}
	if err != nil {
		h.handleErr(w, r, s, err)
		return
	}
	h.log.InfoContext(ctx, "mirror created", logkey.MirrorID, m.ID, logkey.Repo, a.repo.FullName(), "by", s.Login)
	notice := "Mirror to " + m.B.FullName() + " created."
	if m.Direction.FromB() {
		if err := h.registerHook(ctx, r, m); err != nil {
			notice += " " + err.Error()
		} else {
			notice += " Gitee webhook registered."
		}
	}
	if err := h.opts.Queue.RequestSync(ctx, m.ID, store.TriggerManual, false); err != nil {
		notice += " The first sync could not be queued: " + err.Error()
	}
	back(w, r, a.path(), notice)
}

// registerHook registers (or updates) the pull mirror's Gitee webhook
// (jobs.RegisterHook); a refusal is a notice for the person.
func (h *Handler) registerHook(ctx context.Context, r *http.Request, m *store.Mirror) error {
	cred, err := h.opts.Store.GetCredential(ctx, m.InstallationID, m.ID)
	if errors.Is(err, store.ErrNotFound) {
		return notice("Connect Gitee first, then save the mirror again to register its webhook.")
	}
	if err != nil {
		return err
	}
	hooks, err := h.giteeHooks(cred.Token)
	if err != nil {
		return err
	}
	if err := jobs.RegisterHook(ctx, h.opts.Store, hooks, m, h.baseURL(r)); err != nil {
		return notice(fmt.Sprintf("The Gitee webhook could not be registered: %s. Check that the Gitee repository exists and the token has the hook scope.",
			strings.ReplaceAll(err.Error(), cred.Token, "[token]")))
	}
	return nil
}

// giteeHooks is Gitee's webhooks reached with token.
func (h *Handler) giteeHooks(token string) (forge.Hooks, error) {
	f, err := h.giteeForge(token)
	if err != nil {
		return nil, err
	}
	hooks, ok := f.(forge.Hooks)
	if !ok {
		return nil, fmt.Errorf("%s has no webhooks", f.Name())
	}
	return hooks, nil
}

// mirrorAction changes one mirror: save, sync, pause, resume, test-hook,
// delete. The mirror must belong to the repository in the URL, which the
// user must see and administer.
func (h *Handler) mirrorAction(w http.ResponseWriter, r *http.Request, s *session) {
	ctx, cancel := context.WithTimeout(r.Context(), 60*time.Second)
	defer cancel()
	a, ok := h.adminAccess(ctx, w, r, s)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("mirror"), 10, 64)
	if err != nil {
		h.handleErr(w, r, s, errNotVisible)
		return
	}
	m, err := h.opts.Store.GetMirror(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && (m.GitHubRepoID != a.repo.ID || m.InstallationID != a.in.ID) {
		h.handleErr(w, r, s, errNotVisible)
		return
	}
	if err != nil {
		h.handleErr(w, r, s, err)
		return
	}
	notice := ""
	switch r.PathValue("action") {
	case "save":
		if m.ConfigSource == store.SourceFile {
			h.renderRepo(w, r, s, a, http.StatusConflict, "This mirror comes from .github/gitee-mirror.yml, and the file wins: change the file instead.")
			return
		}
		old := *m
		if err := mirrorForm(r, m); err != nil {
			h.renderRepo(w, r, s, a, http.StatusUnprocessableEntity, err.Error())
			return
		}
		if err = h.opts.Store.UpdateMirrorSettings(ctx, m); err != nil {
			break
		}
		notice = "Saved."
		if m.Direction.FromB() && (!old.Direction.FromB() || old.B.FullName() != m.B.FullName() || m.HookRemoteID == 0) {
			if herr := h.registerHook(ctx, r, m); herr != nil {
				notice += " " + herr.Error()
			} else {
				notice += " Gitee webhook registered."
			}
		}
	case "sync":
		err = h.opts.Queue.RequestSync(ctx, m.ID, store.TriggerManual, false)
		notice = "Sync requested."
		if m.Paused {
			notice += " The mirror is paused: resume it to sync."
		}
	case "pause":
		err = h.opts.Store.SetPaused(ctx, m.ID, true, "paused by "+s.Login)
		notice = "Paused."
	case "resume":
		if err = h.opts.Store.SetPaused(ctx, m.ID, false, ""); err == nil {
			err = h.opts.Queue.RequestSync(ctx, m.ID, store.TriggerManual, false)
		}
		notice = "Resumed; a sync is on its way."
	case "test-hook":
		notice, err = h.testHook(ctx, r, m)
	case "delete":
		notice = "Mirror deleted." + h.removeHook(ctx, m)
		err = h.opts.Store.DeleteMirror(ctx, m.ID)
	default:
		h.fail(w, r, s, http.StatusNotFound, "No such action.")
		return
	}
	if err != nil {
		h.handleErr(w, r, s, err)
		return
	}
	h.log.InfoContext(ctx, "mirror changed", logkey.MirrorID, m.ID, logkey.Action, r.PathValue("action"), "by", s.Login)
	back(w, r, a.path(), notice)
}

// removeHook deletes the mirror's Gitee webhook, best effort, and says what
// is left to do.
func (h *Handler) removeHook(ctx context.Context, m *store.Mirror) string {
	if m.HookRemoteID == 0 {
		return ""
	}
	cred, err := h.opts.Store.GetCredential(ctx, m.InstallationID, m.ID)
	if err == nil {
		var hooks forge.Hooks
		if hooks, err = h.giteeHooks(cred.Token); err == nil {
			err = hooks.DeleteHook(ctx, m.B.Owner, m.B.Name, m.HookRemoteID)
		}
	}
	if err != nil {
		h.log.WarnContext(ctx, "error deleting a Gitee webhook", logkey.MirrorID, m.ID, logkey.Error, err)
		return " Its Gitee webhook could not be removed: remove it on Gitee (repository settings → WebHooks)."
	}
	return " Its Gitee webhook was removed."
}

// testHook asks Gitee to send the webhook a test delivery.
func (h *Handler) testHook(ctx context.Context, r *http.Request, m *store.Mirror) (string, error) {
	if !m.Direction.FromB() || m.HookRemoteID == 0 {
		if m.Direction.FromB() {
			if err := h.registerHook(ctx, r, m); err != nil {
				return err.Error(), nil
			}
		} else {
			return "Push mirrors have no Gitee webhook.", nil
		}
	}
	cred, err := h.opts.Store.GetCredential(ctx, m.InstallationID, m.ID)
	if errors.Is(err, store.ErrNotFound) {
		return "Connect Gitee first.", nil
	}
	if err != nil {
		return "", err
	}
	hooks, err := h.giteeHooks(cred.Token)
	if err != nil {
		return "", err
	}
	if err := hooks.TestHook(ctx, m.B.Owner, m.B.Name, m.HookRemoteID); err != nil {
		return "Gitee could not test the webhook: " + strings.ReplaceAll(err.Error(), cred.Token, "[token]"), nil
	}
	return "Gitee sent a test delivery to " + m.HookURL(h.baseURL(r)) + ". If this server's public URL is reachable from Gitee, it arrived.", nil
}
