package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/logkey"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
	"github.com/gitee-mirror/gitee-mirror/internal/validate"
)

// tokenRequest is the body of PUT …/gitee-token.
type tokenRequest struct {
	Login string `json:"login"`
	Token string `json:"token"`
}

// tokenResponse never carries the token.
type tokenResponse struct {
	InstallationID int64  `json:"installation_id"`
	MirrorID       int64  `json:"mirror_id,omitempty"`
	Login          string `json:"login"`
}

// setInstallationToken stores the Gitee token that serves every mirror of
// an installation.
func (s *Server) setInstallationToken(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if _, err := s.opts.Store.GetInstallation(c.Request().Context(), id); errors.Is(err, store.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "no such installation: install the GitHub App first (the installation id is in the URL of its settings page)")
	} else if err != nil {
		return err
	}
	return s.setToken(c, id, 0)
}

// setMirrorToken stores a Gitee token for one mirror, overriding its
// installation's.
func (s *Server) setMirrorToken(c echo.Context) error {
	m, err := s.mirror(c)
	if err != nil {
		return err
	}
	return s.setToken(c, m.InstallationID, m.ID)
}

// setToken checks the token with Gitee, then stores it encrypted.
func (s *Server) setToken(c echo.Context, installationID, mirrorID int64) error {
	req, err := decodeToken(c)
	if err != nil {
		return err
	}
	if !s.cfg.SecretKey.IsSet() {
		return echo.NewHTTPError(http.StatusConflict, store.ErrNoKey.Error())
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 30*time.Second)
	defer cancel()
	login, err := s.opts.GiteeUser(ctx, req.Token)
	if err != nil {
		return tokenCheckError(err, req.Token)
	}
	if req.Login != "" && !strings.EqualFold(req.Login, login) {
		return echo.NewHTTPError(http.StatusUnprocessableEntity,
			"the token belongs to Gitee user "+login+", not "+req.Login+": leave login out, or use that user's token")
	}
	err = s.opts.Store.SetCredential(ctx, store.Credential{InstallationID: installationID, MirrorID: mirrorID, Login: login, Token: req.Token})
	if errors.Is(err, store.ErrNoKey) {
		return echo.NewHTTPError(http.StatusConflict, store.ErrNoKey.Error())
	}
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "Gitee token stored", logkey.InstallationID, installationID, logkey.MirrorID, mirrorID, "login", login)
	s.retryWithToken(ctx, installationID, mirrorID)
	return c.JSON(http.StatusOK, tokenResponse{InstallationID: installationID, MirrorID: mirrorID, Login: login})
}

// retryWithToken asks for a sync of the mirrors a newly stored token serves
// that never synced, are failing (often for want of this very token) or
// were paused after failures, so that they do not wait for the next push or
// reconcile. Mirrors in sync, diverged or paused by a person are left
// alone. Failing to ask is logged: the token is stored either way.
func (s *Server) retryWithToken(ctx context.Context, installationID, mirrorID int64) {
	var ms []*store.Mirror
	var err error
	if mirrorID != 0 {
		var m *store.Mirror
		if m, err = s.opts.Store.GetMirror(ctx, mirrorID); err == nil {
			ms = append(ms, m)
		}
	} else {
		ms, err = s.opts.Store.ListMirrors(ctx, store.MirrorFilter{InstallationID: installationID})
	}
	if err != nil {
		s.log.WarnContext(ctx, "could not list the mirrors to sync with the new token", logkey.InstallationID, installationID, logkey.Error, err)
		return
	}
	for _, m := range ms {
		retry := m.Status == store.StatusNew || m.Status == store.StatusFailing
		if m.Paused {
			retry = m.PausedByFailures
		}
		if !retry {
			continue
		}
		if err := s.opts.Queue.RequestSync(ctx, m.ID, store.TriggerManual, true); err != nil {
			s.log.WarnContext(ctx, "could not request a sync with the new token", logkey.MirrorID, m.ID, logkey.Error, err)
			continue
		}
		s.log.InfoContext(ctx, "sync requested with the new Gitee token", logkey.MirrorID, m.ID)
	}
}

// decodeToken reads the JSON body. Decoder errors are not shown: they may
// quote the body.
func decodeToken(c echo.Context) (*tokenRequest, error) {
	bad := echo.NewHTTPError(http.StatusBadRequest, `the body must be JSON {"token": "<Gitee personal access token>", "login": "<optional Gitee login>"}`)
	var req tokenRequest
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		if tooLarge(err) {
			return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge, "the body is too large")
		}
		return nil, bad
	}
	req.Token, req.Login = strings.TrimSpace(req.Token), strings.TrimSpace(req.Login)
	if req.Token == "" {
		return nil, bad
	}
	if err := validate.Token("token", req.Token); err != nil {
		return nil, echo.NewHTTPError(http.StatusUnprocessableEntity, err.Error())
	}
	if req.Login != "" {
		if err := validate.Owner(validate.Gitee, req.Login); err != nil {
			return nil, echo.NewHTTPError(http.StatusUnprocessableEntity, "login: "+err.Error())
		}
	}
	return &req, nil
}

// tooLarge reports whether reading a body failed on the body limit.
func tooLarge(err error) bool {
	var he *echo.HTTPError
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe) || errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge
}

// tokenCheckError explains why Gitee did not accept a token, in Gitee's
// words where it gave any, with the token removed.
func tokenCheckError(err error, token string) error {
	msg := strings.ReplaceAll(err.Error(), token, "[redacted]")
	switch failure.ClassOf(err) {
	case failure.Auth:
		return echo.NewHTTPError(http.StatusUnprocessableEntity, "Gitee refused the token (wrong or expired): "+msg)
	case failure.Permission:
		return echo.NewHTTPError(http.StatusUnprocessableEntity, "the token lacks a scope: it needs user_info and projects (and hook, to register webhooks): "+msg)
	case failure.Invalid:
		return echo.NewHTTPError(http.StatusUnprocessableEntity, msg)
	}
	return echo.NewHTTPError(http.StatusBadGateway, "could not check the token with Gitee: "+msg)
}

// giteeUser asks the configured Gitee for the token's login.
func (s *Server) giteeUser(ctx context.Context, token string) (string, error) {
	f, err := s.opts.Sites.Open(forge.Gitee, forge.Credentials{Token: token})
	if err != nil {
		return "", err
	}
	acct, ok := f.(forge.Account)
	if !ok {
		return "", fmt.Errorf("%s cannot tell whose token this is", f.Name())
	}
	return acct.Login(ctx)
}
