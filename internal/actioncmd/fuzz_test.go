package actioncmd

import (
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzInputs: the Action's inputs come from a workflow file anyone with
// write access edits. No combination makes parsing panic, puts a token into
// a URL or an error, or sends a token over plain http:// without allow-http.
func FuzzInputs(f *testing.F) {
	f.Add("", "gitee/octo/repo", "main,release/*", "!tmp*", "30m", "", "", "", "", "")
	f.Add("github/octo/repo", "https://gitee.example.test/octo/repo.git", "", "false", "1h", "", "https://gitee.example.test", "", "", "")
	f.Add("http://127.0.0.1:8080/o/r.git", "http://127.0.0.1:8081/o/r.git", "", "", "", "", "", "", "", "true")
	f.Add("github/octo", "gitee/octo", "", "", "", "", "", "a, b", "a=b\nc=d", "")
	f.Add("https://u:p@github.com/o/r", "gitee/../r", "[", "*", "-1s", "ftp://x", "https://gitee.com/api", "..", "=", "yes")
	f.Fuzz(func(t *testing.T, source, destination, branches, tags, timeout, githubURL, giteeURL, repositories, mappings, allowHTTP string) {
		in := map[string]string{
			inSource: source, inDestination: destination, inBranches: branches, inTags: tags,
			inTimeout: timeout, inGitHubURL: githubURL, inGiteeURL: giteeURL,
			inRepositories: repositories, inMappings: mappings, inAllowHTTP: allowHTTP,
		}
		get := func(name string) string { return strings.TrimSpace(in[name]) }
		env := map[string]string{"GITHUB_REPOSITORY": "octo/repo", "GITHUB_SERVER_URL": "https://github.com"}
		getenv := func(k string) string { return env[k] }
		sec := secrets{source: "CANARYsrc0123", destination: "CANARYdst4567", github: "CANARYgh8901"}
		noToken := func(what, s string) {
			for _, tok := range sec.all() {
				if strings.Contains(s, tok) {
					t.Fatalf("%s holds a token: %q", what, s)
				}
			}
		}
		warned := false
		warn := func(string) { warned = true }

		ro, err := parseRepo(get, getenv, sec, warn)
		if err != nil {
			noToken("error", err.Error())
		} else {
			for _, ep := range []struct{ url, token, local string }{
				{ro.sync.Source.URL, ro.sync.Source.Token, ro.src.local},
				{ro.sync.Target.URL, ro.sync.Target.Token, ro.dst.local},
			} {
				noToken("URL", ep.url)
				if ep.local != "" {
					// A local path is served on loopback by serveLocal,
					// which sets the URL then and drops any token.
					if ep.url != "" || !filepath.IsAbs(ep.local) {
						t.Fatalf("local side %q got URL %q", ep.local, ep.url)
					}
					continue
				}
				u, perr := url.Parse(ep.url)
				if perr != nil || u.Host == "" || u.User != nil || (u.Scheme != "https" && u.Scheme != "http") {
					t.Fatalf("accepted URL %q", ep.url)
				}
				if u.Scheme == "http" && ep.token != "" && !warned {
					t.Fatalf("a token goes to %q without allow-http's warning (allow-http %q)", ep.url, allowHTTP)
				}
			}
		}
		if o, err := parseAccount(get, getenv, sec); err != nil {
			noToken("error", err.Error())
		} else if err := checkAccountHTTP(o, get, warn); err != nil {
			noToken("error", err.Error())
		}
	})
}
