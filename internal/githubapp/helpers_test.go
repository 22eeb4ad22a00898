package githubapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
)

const (
	// baseURLPath is a non-empty API base path, so that a request built
	// with an absolute path escapes it and fails the test.
	baseURLPath = "/api-v3"
	// canary is the token under test; it must never appear in an error.
	canary = "ghp_CANARY0123456789abcdefCANARY"
	gitURL = "https://git.example.test"
)

// setup starts a fake GitHub API and returns a Client using canary as its
// token, the mux to register handlers on (paths relative to the API base),
// and the server's URL.
func setup(t *testing.T) (client *Client, mux *http.ServeMux, serverURL string) {
	t.Helper()
	mux = http.NewServeMux()
	apiHandler := http.NewServeMux()
	apiHandler.Handle(baseURLPath+"/", http.StripPrefix(baseURLPath, mux))
	apiHandler.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request escaped the API base path %s: %s %s", baseURLPath, r.Method, r.URL)
		http.Error(w, "API base path not preserved", http.StatusInternalServerError)
	})
	server := httptest.NewServer(apiHandler)
	t.Cleanup(server.Close)

	client, err := NewWithToken(canary, Options{
		APIURL:    server.URL + baseURLPath + "/",
		GitURL:    gitURL,
		RetryBase: time.Millisecond,
	})
	if err != nil {
		t.Fatalf("NewWithToken: %v", err)
	}
	return client, mux, server.URL
}

func testMethod(t *testing.T, r *http.Request, want string) {
	t.Helper()
	if got := r.Method; got != want {
		t.Errorf("Request method: %v, want %v", got, want)
	}
}

type values map[string]string

func testFormValues(t *testing.T, r *http.Request, values values) {
	t.Helper()
	want := url.Values{}
	for k, v := range values {
		want.Set(k, v)
	}
	if err := r.ParseForm(); err != nil {
		t.Fatalf("ParseForm: %v", err)
	}
	if got := r.Form; !reflect.DeepEqual(got, want) {
		t.Errorf("Request parameters: %v, want %v", got, want)
	}
}

func testHeader(t *testing.T, r *http.Request, header, want string) {
	t.Helper()
	if got := r.Header.Get(header); got != want {
		t.Errorf("Header.Get(%q) = %q, want %q", header, got, want)
	}
}

// testJSONBody decodes the request body into a generic map.
func testJSONBody(t *testing.T, r *http.Request) map[string]any {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatalf("reading request body: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("request body %s: %v", b, err)
	}
	return m
}

// testError checks that err is a *failure.Error of class want whose text
// contains every one of contains and never the canary token.
func testError(t *testing.T, err error, want failure.Class, contains ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("error = nil, want class %s", want)
	}
	var fe *failure.Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %T %v is not a *failure.Error", err, err)
	}
	if err != error(fe) {
		t.Errorf("error %T is not itself a *failure.Error", err)
	}
	if got := fe.Class; got != want {
		t.Errorf("class = %s, want %s (error: %v)", got, want, err)
	}
	msg := err.Error()
	for _, s := range contains {
		if !strings.Contains(msg, s) {
			t.Errorf("error %q does not contain %q", msg, s)
		}
	}
	if strings.Contains(msg, canary) {
		t.Errorf("error leaks the token: %q", msg)
	}
}

// repoJSON is a repository as GitHub's API returns it.
func repoJSON(owner, name string, extra string) string {
	if extra != "" {
		extra = "," + extra
	}
	return fmt.Sprintf(`{"id":1,"name":%q,"full_name":"%s/%s","owner":{"login":%q},"default_branch":"main"%s}`,
		name, owner, name, owner, extra)
}

// errorJSON writes a GitHub error body.
func errorJSON(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"message":%q,"documentation_url":"https://docs.github.com/rest"}`, message)
}
