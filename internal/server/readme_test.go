package server

import (
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeListsAdminEndpoints: the README names every admin endpoint the
// server routes, as `METHOD /admin/path` with <id> for a path parameter.
func TestReadmeListsAdminEndpoints(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := strings.Join(strings.Fields(string(data)), " ")
	param := regexp.MustCompile(`:[a-zA-Z]+`)
	n := 0
	for _, r := range setup(t).srv.echo.Routes() {
		switch {
		case !strings.HasPrefix(r.Path, "/admin/"), strings.HasPrefix(r.Path, QueuePrefix), strings.Contains(r.Path, "*"):
			continue
		case r.Method != http.MethodGet && r.Method != http.MethodPost && r.Method != http.MethodPut &&
			r.Method != http.MethodPatch && r.Method != http.MethodDelete:
			continue
		}
		n++
		want := "`" + r.Method + " " + param.ReplaceAllString(r.Path, "<id>") + "`"
		if !strings.Contains(readme, want) {
			t.Errorf("README.md does not name the admin endpoint %s", want)
		}
	}
	if n == 0 {
		t.Error("the server routes no admin endpoint")
	}
}
