package settings

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/logkey"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/gitee-mirror/gitee-mirror/internal/validate"
)

// giteeCard is what the pages show of a stored Gitee token: its owner and
// last four characters, never the token.
type giteeCard struct {
	Connected bool
	Login     string
	Last4     string
	Updated   time.Time
}

func (h *Handler) giteeCard(ctx context.Context, installationID int64) (giteeCard, error) {
	c, err := h.opts.Store.GetCredential(ctx, installationID, 0)
	if errors.Is(err, store.ErrNotFound) {
		return giteeCard{}, nil
	}
	if err != nil {
		return giteeCard{}, err
	}
	last4 := c.Token
	if len(last4) > 4 {
		last4 = last4[len(last4)-4:]
	}
	return giteeCard{Connected: true, Login: c.Login, Last4: last4, Updated: c.UpdatedAt}, nil
}

// visibleInstallation reads {inst} and checks that the user sees it.
func (h *Handler) visibleInstallation(ctx context.Context, r *http.Request, s *session) (*installation, error) {
	id, err := strconv.ParseInt(r.PathValue("inst"), 10, 64)
	if err != nil || id <= 0 {
		return nil, errNotVisible
	}
	in, err := h.installation(ctx, s, id)
	if err != nil {
		return nil, err
	}
	// GitHub told us, with the user's token for this App, that it exists.
	if _, err := h.opts.Store.GetInstallation(ctx, in.ID); errors.Is(err, store.ErrNotFound) {
		err = h.opts.Store.UpsertInstallation(ctx, store.Installation{ID: in.ID, Account: in.Account, AccountType: in.Type})
		if err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	return in, nil
}

// canManage reports whether the user may change the installation's Gitee
// token: the installation's own account, or an admin of every repository
// of it that has a mirror (and of one at least). The token serves every
// mirror of the installation, so one repository's admin is not enough.
func (h *Handler) canManage(ctx context.Context, s *session, in *installation, repos []repo) (bool, error) {
	if strings.EqualFold(in.Account, s.Login) {
		return true, nil
	}
	mirrors, err := h.opts.Store.ListMirrors(ctx, store.MirrorFilter{InstallationID: in.ID})
	if err != nil {
		return false, err
	}
	mirrored := map[int64]bool{}
	for _, m := range mirrors {
		mirrored[m.GitHubRepoID] = true
	}
	admin := 0
	for i := range repos {
		lvl, err := h.permission(ctx, s, &repos[i])
		if err != nil {
			return false, err
		}
		if lvl == "admin" {
			admin++
			delete(mirrored, repos[i].ID)
		}
	}
	return admin > 0 && len(mirrored) == 0, nil
}

// installationPage lists the installation's repositories the user sees,
// with their mirrors, and the Gitee connection.
func (h *Handler) installationPage(w http.ResponseWriter, r *http.Request, s *session) {
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	in, err := h.visibleInstallation(ctx, r, s)
	if err != nil {
		h.handleErr(w, r, s, err)
		return
	}
	h.renderInstallation(w, r, s, in, http.StatusOK, "")
}

type repoRow struct {
	Repo    repo
	Mirrors []*store.Mirror
}

func (h *Handler) renderInstallation(w http.ResponseWriter, r *http.Request, s *session, in *installation, status int, errMsg string) {
	ctx := r.Context()
	repos, err := h.repos(ctx, s, in.ID)
	if err != nil {
		h.handleErr(w, r, s, err)
		return
	}
	card, err := h.giteeCard(ctx, in.ID)
	if err != nil {
		h.handleErr(w, r, s, err)
		return
	}
	manage, err := h.canManage(ctx, s, in, repos)
	if err != nil {
		h.handleErr(w, r, s, err)
		return
	}
	mirrors, err := h.opts.Store.ListMirrors(ctx, store.MirrorFilter{InstallationID: in.ID})
	if err != nil {
		h.handleErr(w, r, s, err)
		return
	}
	rows := make([]repoRow, len(repos))
	for i, rp := range repos {
		rows[i].Repo = rp
		for _, m := range mirrors {
			if m.GitHubRepoID == rp.ID {
				rows[i].Mirrors = append(rows[i].Mirrors, m)
			}
		}
	}
	h.render(w, r, s, status, "installation", in.Account, map[string]any{
		"Installation": in, "Repos": rows, "Gitee": card, "CanManage": manage, "FormError": errMsg,
		"KeySet": h.opts.Config.SecretKey.IsSet(), "GiteeTokenPage": h.opts.Config.GiteeURL + "/profile/personal_access_tokens",
	})
}

// setGitee checks a pasted Gitee token with GET /user and stores it
// encrypted.
func (h *Handler) setGitee(w http.ResponseWriter, r *http.Request, s *session) {
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	in, ok := h.manageable(ctx, w, r, s)
	if !ok {
		return
	}
	token := strings.TrimSpace(r.PostFormValue("token"))
	if err := validate.Token("Gitee token", token); err != nil {
		h.renderInstallation(w, r, s, in, http.StatusUnprocessableEntity, "Paste a Gitee personal access token: "+err.Error()+".")
		return
	}
	login, err := h.opts.GiteeUser(ctx, token)
	if err != nil {
		h.renderInstallation(w, r, s, in, http.StatusUnprocessableEntity, giteeTokenError(err, token))
		return
	}
	err = h.opts.Store.SetCredential(ctx, store.Credential{InstallationID: in.ID, Login: login, Token: token})
	if errors.Is(err, store.ErrNoKey) {
		h.renderInstallation(w, r, s, in, http.StatusConflict, "This server has no encryption key, so it cannot store tokens: its operator must set GITEE_MIRROR_SECRET_KEY.")
		return
	}
	if err != nil {
		h.handleErr(w, r, s, err)
		return
	}
	h.log.InfoContext(ctx, "Gitee token stored", logkey.InstallationID, in.ID, "gitee_login", login, "by", s.Login)
	back(w, r, Prefix+"/installations/"+strconv.FormatInt(in.ID, 10), "Gitee connected as "+login+".")
}

// removeGitee forgets the installation's Gitee token.
func (h *Handler) removeGitee(w http.ResponseWriter, r *http.Request, s *session) {
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	in, ok := h.manageable(ctx, w, r, s)
	if !ok {
		return
	}
	if err := h.opts.Store.DeleteCredential(ctx, in.ID, 0); err != nil && !errors.Is(err, store.ErrNotFound) {
		h.handleErr(w, r, s, err)
		return
	}
	h.log.InfoContext(ctx, "Gitee token removed", logkey.InstallationID, in.ID, "by", s.Login)
	back(w, r, Prefix+"/installations/"+strconv.FormatInt(in.ID, 10), "Gitee token removed.")
}

// manageable checks that the user sees the installation and may change its
// Gitee token; it answers the refusal itself.
func (h *Handler) manageable(ctx context.Context, w http.ResponseWriter, r *http.Request, s *session) (*installation, bool) {
	in, err := h.visibleInstallation(ctx, r, s)
	if err != nil {
		h.handleErr(w, r, s, err)
		return nil, false
	}
	repos, err := h.repos(ctx, s, in.ID)
	if err != nil {
		h.handleErr(w, r, s, err)
		return nil, false
	}
	ok, err := h.canManage(ctx, s, in, repos)
	if err != nil {
		h.handleErr(w, r, s, err)
		return nil, false
	}
	if !ok {
		h.fail(w, r, s, http.StatusForbidden, "Only the installation's account, or an admin of every mirrored repository of it, may change its Gitee token.")
		return nil, false
	}
	return in, true
}

// giteeTokenError says in plain words why Gitee refused a token, with the
// token itself removed.
func giteeTokenError(err error, token string) string {
	msg := strings.ReplaceAll(err.Error(), token, "[token]")
	switch failure.ClassOf(err) {
	case failure.Auth:
		return "Gitee does not accept this token: it is wrong, expired or revoked. Create a new one and paste it again. (" + msg + ")"
	case failure.Permission:
		return "The token lacks a scope: it needs user_info and projects, and hook to register webhooks. (" + msg + ")"
	}
	return "Could not check the token with Gitee: " + msg
}

// giteeForge is side B's site (Gitee) reached with token.
func (h *Handler) giteeForge(token string) (forge.Forge, error) {
	return h.opts.Sites.Open(forge.Gitee, forge.Credentials{Token: token})
}

// giteeUser asks the configured Gitee for the token's login.
func (h *Handler) giteeUser(ctx context.Context, token string) (string, error) {
	f, err := h.giteeForge(token)
	if err != nil {
		return "", err
	}
	acct, ok := f.(forge.Account)
	if !ok {
		return "", fmt.Errorf("%s cannot tell whose token this is", f.Name())
	}
	return acct.Login(ctx)
}
