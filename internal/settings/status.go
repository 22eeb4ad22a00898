package settings

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// statusRow is one mirror on the status page.
type statusRow struct {
	mirrorView
	Path string
}

// status lists every mirror of every repository the user can see, and
// the settings files among them that do not parse.
func (h *Handler) status(w http.ResponseWriter, r *http.Request, s *session) {
	ctx, cancel := context.WithTimeout(r.Context(), 60*time.Second)
	defer cancel()
	ins, err := h.installations(ctx, s)
	if err != nil {
		h.handleErr(w, r, s, err)
		return
	}
	var rows []statusRow
	var problems []*store.ConfigProblem
	for _, in := range ins {
		repos, err := h.repos(ctx, s, in.ID)
		if err != nil {
			h.handleErr(w, r, s, err)
			return
		}
		ms, err := h.opts.Store.ListMirrors(ctx, store.MirrorFilter{InstallationID: in.ID})
		if err != nil {
			h.handleErr(w, r, s, err)
			return
		}
		seen := map[int64]bool{}
		for _, rp := range repos {
			seen[rp.ID] = true
		}
		ps, err := h.opts.Store.ListConfigProblems(ctx, in.ID)
		if err != nil {
			h.handleErr(w, r, s, err)
			return
		}
		for _, p := range ps {
			if seen[p.GitHubRepoID] {
				problems = append(problems, p)
			}
		}
		for _, m := range ms {
			if !seen[m.GitHubRepoID] {
				continue // a repository this user cannot see
			}
			v, err := h.mirrorView(ctx, r, m)
			if err != nil {
				h.handleErr(w, r, s, err)
				return
			}
			rows = append(rows, statusRow{mirrorView: v,
				Path: Prefix + "/installations/" + itoa(in.ID) + "/repos/" + itoa(m.GitHubRepoID)})
		}
	}
	h.render(w, r, s, http.StatusOK, "status", "Status", map[string]any{"Rows": rows, "Problems": problems})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
