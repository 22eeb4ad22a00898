package server

import (
	"context"
	_ "embed"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gitee-mirror/gitee-mirror/internal/config"
	"github.com/gitee-mirror/gitee-mirror/internal/logkey"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

//go:embed templates/home.html
var homeHTML string

var homePage = template.Must(template.New("home").Parse(homeHTML))

// homeData is what the front page shows.
type homeData struct {
	BaseURL          string // public URL, or the request's scheme and host
	PublicURLSet     bool
	WebhookURL       string
	GitHubURL        string
	Configured       bool
	Vars             []varState // the App's credentials, set or not
	SecretKeySet     bool
	AdminEnabled     bool
	Installations    int
	InstallationsAll bool // Installations counts every installation, not only those with mirrors
	Mirrors          int
	ByStatus         []statusCount
	StatusError      bool
	Pages            bool // the settings pages are served
}

type varState struct {
	Name, Where string
	Set         bool
}

type statusCount struct {
	Status string
	Count  int
}

// installationCounter is an optional store method: without it the page
// counts installations that have mirrors.
type installationCounter interface {
	CountInstallations(ctx context.Context) (int, error)
}

// home is the front page: what to configure when the GitHub App
// credentials are missing, else the App's status.
func (s *Server) home(c echo.Context) error {
	cfg := s.cfg
	d := homeData{
		BaseURL:      s.baseURL(c),
		PublicURLSet: cfg.PublicURL != "",
		GitHubURL:    cfg.GitHubURL,
		Configured:   s.opts.App.Configured(),
		Pages:        s.opts.Settings != nil,
		SecretKeySet: cfg.SecretKey.IsSet(),
		AdminEnabled: cfg.AdminToken.IsSet(),
		Vars: []varState{
			{config.EnvAppID, `"App ID" on the App's settings page`, cfg.AppID != 0},
			{config.EnvPrivateKey + "_FILE", `"Private keys" → "Generate a private key" on the App's settings page: the downloaded .pem file`, cfg.PrivateKey.IsSet()},
			{config.EnvWebhookSecret, `a random string (e.g. openssl rand -hex 32), entered as "Webhook secret" on the App's settings page`, cfg.WebhookSecret.IsSet()},
		},
	}
	d.WebhookURL = d.BaseURL + "/webhooks/github"
	if d.Configured {
		s.status(c.Request().Context(), &d)
	}
	var b strings.Builder
	if err := homePage.Execute(&b, d); err != nil {
		return err
	}
	return c.HTML(http.StatusOK, b.String())
}

// status fills in the counts; a failure shows as a note, not an error page.
func (s *Server) status(ctx context.Context, d *homeData) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	mirrors, err := s.opts.Store.ListMirrors(ctx, store.MirrorFilter{})
	if err != nil {
		s.log.ErrorContext(ctx, "error listing mirrors for the front page", logkey.Error, err)
		d.StatusError = true
		return
	}
	counts, insts := map[string]int{}, map[int64]bool{}
	for _, m := range mirrors {
		st := string(m.Status)
		if m.Paused {
			st = string(store.StatusPaused)
		}
		counts[st]++
		insts[m.InstallationID] = true
	}
	d.Mirrors, d.Installations = len(mirrors), len(insts)
	if ic, ok := s.opts.Store.(installationCounter); ok {
		if n, err := ic.CountInstallations(ctx); err == nil {
			d.Installations, d.InstallationsAll = n, true
		}
	}
	for st, n := range counts {
		d.ByStatus = append(d.ByStatus, statusCount{st, n})
	}
	sort.Slice(d.ByStatus, func(i, j int) bool { return d.ByStatus[i].Status < d.ByStatus[j].Status })
}

// baseURL is where people and sites reach the App (config.BaseURL).
func (s *Server) baseURL(c echo.Context) string { return s.cfg.BaseURL(c.Request()) }
