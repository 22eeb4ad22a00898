package gitee

import (
	"context"
	"net/http"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
)

func TestNew(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		cfg       Config
		wantClass failure.Class
		wantGit   string
	}{
		"defaults":            {cfg: Config{Token: "x"}, wantGit: "https://gitee.com/o/r.git"},
		"git base from api":   {cfg: Config{Token: "x", BaseURL: "https://git.example.com/api/v5/"}, wantGit: "https://git.example.com/o/r.git"},
		"explicit git base":   {cfg: Config{Token: "x", BaseURL: "https://api.example.com/v5", GitBaseURL: "https://code.example.com/git/"}, wantGit: "https://code.example.com/git/o/r.git"},
		"no token":            {cfg: Config{}, wantClass: failure.Invalid},
		"blank token":         {cfg: Config{Token: "  "}, wantClass: failure.Invalid},
		"not a url":           {cfg: Config{Token: "x", BaseURL: "gitee.com/api/v5"}, wantClass: failure.Invalid},
		"ftp":                 {cfg: Config{Token: "x", BaseURL: "ftp://gitee.com/api/v5"}, wantClass: failure.Invalid},
		"credentials in base": {cfg: Config{Token: "x", BaseURL: "https://u:p@gitee.com/api/v5"}, wantClass: failure.Invalid},
		"query in base":       {cfg: Config{Token: "x", BaseURL: "https://gitee.com/api/v5?access_token=y"}, wantClass: failure.Invalid},
		"bad git base":        {cfg: Config{Token: "x", GitBaseURL: "::"}, wantClass: failure.Invalid},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := New(tc.cfg)
			if got, want := failure.ClassOf(err), tc.wantClass; got != want {
				t.Fatalf("New error class = %q, want %q (err: %v)", got, want, err)
			}
			if err != nil {
				return
			}
			if got, want := c.GitURL("o", "r"), tc.wantGit; got != want {
				t.Errorf("GitURL = %q, want %q", got, want)
			}
			if got, want := c.Name(), "gitee"; got != want {
				t.Errorf("Name = %q, want %q", got, want)
			}
		})
	}
}

func TestNewDoesNotChangeCallersHTTPClient(t *testing.T) {
	t.Parallel()
	hc := &http.Client{}
	if _, err := New(Config{Token: "x", HTTPClient: hc}); err != nil {
		t.Fatal(err)
	}
	if hc.CheckRedirect != nil {
		t.Error("New changed the caller's http.Client")
	}
}

func TestUserAndCredentials(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.handle("GET /user", reply(http.StatusOK, map[string]any{"id": 42, "login": "alice", "name": "Alice"}))
	c := f.client(t, func(cfg *Config) { cfg.Username = "preset" })

	if got, want := c.GitCredentials().Username, "preset"; got != want {
		t.Errorf("username before GET /user = %q, want %q", got, want)
	}
	u, err := c.User(context.Background())
	if err != nil {
		t.Fatalf("User: %v", err)
	}
	if got, want := *u, (User{ID: 42, Login: "alice", Name: "Alice"}); got != want {
		t.Errorf("User = %+v, want %+v", got, want)
	}
	for range 3 {
		login, err := c.Login(context.Background())
		if err != nil {
			t.Fatalf("Login: %v", err)
		}
		if got, want := login, "alice"; got != want {
			t.Errorf("Login = %q, want %q", got, want)
		}
	}
	if got, want := f.hitCount("GET /user"), 1; got != want {
		t.Errorf("GET /user made %d times, want %d (login is cached)", got, want)
	}
	cred := c.GitCredentials()
	if got, want := cred.Username, "alice"; got != want {
		t.Errorf("Credentials.Username = %q, want %q", got, want)
	}
	if got, want := cred.Token, canary; got != want {
		t.Errorf("Credentials.Token = %q, want the token", got)
	}
}

func TestUserWithoutLogin(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.handle("GET /user", reply(http.StatusOK, map[string]any{"id": 1}))
	_, err := f.client(t).User(context.Background())
	if got, want := failure.ClassOf(err), failure.Internal; got != want {
		t.Errorf("class = %q, want %q (err: %v)", got, want, err)
	}
}

func TestGitURLEscapes(t *testing.T) {
	t.Parallel()
	c, err := New(Config{Token: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.GitURL("my org", "r#1"), "https://gitee.com/my%20org/r%231.git"; got != want {
		t.Errorf("GitURL = %q, want %q", got, want)
	}
}
