package settings

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/logkey"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// page is what every template gets.
type page struct {
	Title   string
	Login   string // "" when signed out
	Notice  string
	Error   string
	Prefix  string
	Data    any
	Status  int
	Request string // path, for the sign-out form's return
}

var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"short": func(s string) string {
		if len(s) > 10 {
			return s[:10]
		}
		if s == "" {
			return "—"
		}
		return s
	},
	"join": strings.Join,
	// newMirror is the blank form of a new mirror of repository name.
	"newMirror": func(owner, name string) *store.Mirror {
		return &store.Mirror{B: store.Side{Owner: owner, Name: name}, Direction: store.AToB, Visibility: "private", CreateMissing: true}
	},
}

func (h *Handler) parseTemplates() error {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	h.pages = map[string]*template.Template{}
	for _, n := range names {
		if strings.HasSuffix(n, "/layout.html") {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/parts/*.html", n)
		if err != nil {
			return fmt.Errorf("settings: template %s: %w", n, err)
		}
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		h.pages[name] = t
	}
	return nil
}

// render writes the page name with data.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, s *session, status int, name, title string, data any) {
	p := page{Title: title, Prefix: Prefix, Data: data, Status: status, Request: r.URL.Path}
	if s != nil {
		p.Login = s.Login
	}
	p.Notice = r.URL.Query().Get("notice")
	var b bytes.Buffer
	if err := h.pages[name].Execute(&b, p); err != nil {
		h.log.ErrorContext(r.Context(), "error rendering a settings page", "page", name, logkey.Error, err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// fail shows an error page with msg, in plain words.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, s *session, status int, msg string) {
	h.render(w, r, s, status, "error", http.StatusText(status), msg)
}

// back redirects to path after a form, with a notice for the next page.
func back(w http.ResponseWriter, r *http.Request, path, notice string) {
	if notice != "" {
		path += "?notice=" + urlQueryEscape(notice)
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}
