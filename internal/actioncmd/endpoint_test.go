package actioncmd

import (
	"errors"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	t.Parallel()
	b := bases{github: "https://github.com", gitee: "https://gitee.com"}
	tests := map[string]struct {
		in        string
		wantURL   string
		wantSite  site
		wantOwner string
	}{
		"github short":          {"github/octo/repo", "https://github.com/octo/repo.git", siteGitHub, "octo"},
		"gitee short":           {"gitee/octo/repo", "https://gitee.com/octo/repo.git", siteGitee, "octo"},
		"short with .git":       {"gitee/octo/repo.git", "https://gitee.com/octo/repo.git", siteGitee, "octo"},
		"dots and dashes":       {"github/my-org/my.repo_2", "https://github.com/my-org/my.repo_2.git", siteGitHub, "my-org"},
		"gitee url":             {"https://gitee.com/team/app.git", "https://gitee.com/team/app.git", siteGitee, "team"},
		"github url":            {"https://github.com/team/app", "https://github.com/team/app", siteGitHub, "team"},
		"other https":           {"https://git.example.com/x/y.git", "https://git.example.com/x/y.git", siteOther, ""},
		"plain http":            {"http://127.0.0.1:8080/x/y.git", "http://127.0.0.1:8080/x/y.git", siteOther, ""},
		"host case-insensitive": {"https://GITEE.com/team/app.git", "https://GITEE.com/team/app.git", siteGitee, "team"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r, err := resolve("destination", tt.in, b)
			if err != nil {
				t.Fatal(err)
			}
			if r.url != tt.wantURL || r.site != tt.wantSite || r.owner != tt.wantOwner {
				t.Errorf("resolve(%q) = %+v, want {%s %d %s}", tt.in, r, tt.wantURL, tt.wantSite, tt.wantOwner)
			}
		})
	}
}

func TestResolveCustomBases(t *testing.T) {
	t.Parallel()
	b := bases{github: "https://ghe.corp.example", gitee: "https://code.corp.example/gitee"}
	tests := map[string]struct{ in, url string }{
		"github":         {"github/a/b", "https://ghe.corp.example/a/b.git"},
		"gitee":          {"gitee/a/b", "https://code.corp.example/gitee/a/b.git"},
		"gitee url path": {"https://code.corp.example/gitee/a/b.git", "https://code.corp.example/gitee/a/b.git"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r, err := resolve("source", tt.in, b)
			if err != nil {
				t.Fatal(err)
			}
			if r.url != tt.url || r.owner != "a" || r.site == siteOther {
				t.Errorf("resolve(%q) = %+v, want %s owned by a", tt.in, r, tt.url)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	t.Parallel()
	b := bases{github: "https://github.com", gitee: "https://gitee.com"}
	tests := map[string]struct{ in, want string }{
		"token in url":         {"https://user:s3cr3t-canary@gitee.com/o/r.git", "credentials"},
		"username only in url": {"https://s3cr3t-canary@gitee.com/o/r.git", "credentials"},
		"token in query":       {"https://gitee.com/o/r.git?access_token=s3cr3t-canary", "query"},
		"fragment":             {"https://gitee.com/o/r.git#s3cr3t-canary", "fragment"},
		"ssh url":              {"git@github.com:s3cr3t-canary/r.git", "github/OWNER/REPO"},
		"ssh scheme":           {"ssh://git@github.com/s3cr3t-canary/r.git", "github/OWNER/REPO"},
		"no repo":              {"github/s3cr3t-canary", "github/OWNER/REPO"},
		"too deep":             {"gitee/a/b/s3cr3t-canary", "github/OWNER/REPO"},
		"bad characters":       {"gitee/a/s3cr3t-canary@x", "OWNER and REPO"},
		"dot dot":              {"gitee/../s3cr3t-canary", "OWNER and REPO"},
		"unknown site":         {"gitlab/o/s3cr3t-canary", "github/OWNER/REPO"},
		"unparsable":           {"https://[s3cr3t-canary", "github/OWNER/REPO"},
		"empty host":           {"https:///s3cr3t-canary", "github/OWNER/REPO"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := resolve("destination", tt.in, b)
			var in *inputError
			if !errors.As(err, &in) || in.name != "destination" {
				t.Fatalf("err = %v, want an input error naming destination", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cr3t-canary") {
				t.Errorf("error quotes the value: %q", err)
			}
		})
	}
}

func TestURLTokenErrorNamesTokenInput(t *testing.T) {
	t.Parallel()
	_, err := resolve("source", "https://x:y@github.com/o/r", bases{github: "https://github.com", gitee: "https://gitee.com"})
	if err == nil || !strings.Contains(err.Error(), "source-token") || !strings.Contains(err.Error(), "SOURCE_TOKEN") {
		t.Errorf("err = %v, want a pointer to source-token and SOURCE_TOKEN", err)
	}
}
