package gitee

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
)

// perPage is Gitee's maximum page size.
const perPage = 100

// maxPages stops a listing that never ends (a server ignoring "page").
const maxPages = 1000

// segment checks one path segment (an owner or repository name) and escapes
// it.
func segment(what, s string) (string, error) {
	if s == "" || s == "." || s == ".." || strings.ContainsAny(s, "/\\?#") || strings.TrimSpace(s) != s {
		return "", failure.New(failure.Invalid, "%q is not a valid Gitee %s", s, what)
	}
	return url.PathEscape(s), nil
}

// repoPath is /repos/{owner}/{name}.
func repoPath(owner, name string) (string, error) {
	o, err := segment("owner", owner)
	if err != nil {
		return "", err
	}
	n, err := segment("repository name", name)
	if err != nil {
		return "", err
	}
	return "/repos/" + o + "/" + n, nil
}

// listAll follows Gitee's pagination: page and per_page in the query; it
// stops at the total_page header when there is one, else at a short page.
func listAll[T any](ctx context.Context, c *Client, k call) ([]T, error) {
	var all []T
	for page := 1; page <= maxPages; page++ {
		p := k
		p.method = http.MethodGet
		p.query = cloneValues(k.query)
		p.query.Set("page", strconv.Itoa(page))
		p.query.Set("per_page", strconv.Itoa(perPage))
		var batch []T
		h, err := c.do(ctx, &p, &batch)
		if err != nil {
			return nil, err
		}
		all = append(all, batch...)
		if total, ok := totalPages(h); ok {
			if page >= total || len(batch) == 0 {
				return all, nil
			}
			continue
		}
		if len(batch) < perPage {
			return all, nil
		}
	}
	return nil, failure.New(failure.Internal, "%s: Gitee kept returning pages past page %d; stopping", k.desc(), maxPages)
}

// totalPages reads Gitee's total_page header (also Total-Page).
func totalPages(h http.Header) (int, bool) {
	for _, key := range []string{"total_page", "Total-Page"} {
		if v := strings.TrimSpace(h.Get(key)); v != "" {
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				return n, true
			}
		}
	}
	return 0, false
}
