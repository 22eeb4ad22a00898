package actioncmd

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
)

// fakeForge is a forge.Forge in memory, for unit tests of account mode. Its
// Git URLs point at a small HTTP server that answers only the upload-pack
// info/refs request: one branch, or none for an empty repository (isEmpty
// tells the fake sync the same).
type fakeForge struct {
	t     *testing.T
	name  string
	srv   *httptest.Server
	creds forge.Credentials

	mu        sync.Mutex
	repos     map[string]*forge.Repo // by lower-case "owner/name"
	empty     map[string]bool        // repositories without refs
	listErr   error
	getErr    map[string]error // GetRepo failures by "owner/name"
	createErr error
	updateErr error
	listCalls int
	getCalls  []string
	created   []forge.CreateOptions
	updates   map[string]forge.RepoUpdate

	createdHead string // default branch CreateRepo reports for a new repository
}

var _ forge.Forge = (*fakeForge)(nil)

func newFakeForge(t *testing.T, name string, creds forge.Credentials) *fakeForge {
	t.Helper()
	f := &fakeForge{t: t, name: name, creds: creds, repos: map[string]*forge.Repo{}, empty: map[string]bool{},
		getErr: map[string]error{}, updates: map[string]forge.RepoUpdate{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serveRefs))
	t.Cleanup(f.srv.Close)
	return f
}

// add puts a repository on the fake site.
func (f *fakeForge) add(r forge.Repo) *fakeForge {
	f.mu.Lock()
	defer f.mu.Unlock()
	r.CloneURL = f.GitURL(r.Owner, r.Name)
	f.repos[strings.ToLower(r.FullName())] = &r
	if r.Empty {
		f.empty[strings.ToLower(r.FullName())] = true
	}
	return f
}

// setEmpty marks a repository as having no refs on its Git server, whatever
// the API says (GitHub's API cannot tell).
func (f *fakeForge) setEmpty(full string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.empty[strings.ToLower(full)] = true
}

// isEmpty reports whether a repository has no refs on its Git server.
func (f *fakeForge) isEmpty(full string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.empty[strings.ToLower(full)]
}

// serveRefs answers GET /OWNER/NAME.git/info/refs?service=git-upload-pack.
func (f *fakeForge) serveRefs(w http.ResponseWriter, r *http.Request) {
	full, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/"), ".git/info/refs")
	if !ok || r.URL.Query().Get("service") != "git-upload-pack" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if _, tok, _ := r.BasicAuth(); tok != f.creds.Token {
		http.Error(w, "bad credentials", http.StatusUnauthorized)
		return
	}
	f.mu.Lock()
	_, exists := f.repos[strings.ToLower(full)]
	empty := f.empty[strings.ToLower(full)]
	f.mu.Unlock()
	if !exists {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/x-git-upload-pack-advertisement")
	fmt.Fprint(w, pkt("# service=git-upload-pack\n"), "0000")
	if !empty {
		fmt.Fprint(w, pkt(sha1+" refs/heads/main\x00multi_ack side-band-64k\n"))
	}
	fmt.Fprint(w, "0000")
}

// pkt frames s as a pkt-line.
func pkt(s string) string { return fmt.Sprintf("%04x%s", len(s)+4, s) }

func (f *fakeForge) Name() string { return f.name }

func (f *fakeForge) GetRepo(_ context.Context, owner, name string) (*forge.Repo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := owner + "/" + name
	f.getCalls = append(f.getCalls, key)
	if err := f.getErr[key]; err != nil {
		return nil, err
	}
	r, ok := f.repos[strings.ToLower(key)]
	if !ok {
		return nil, failure.New(failure.NotFound, "repository %s not found", key)
	}
	c := *r
	return &c, nil
}

func (f *fakeForge) ListRepos(_ context.Context, owner string, _ forge.AccountKind) ([]*forge.Repo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listCalls++
	if f.listErr != nil {
		return nil, f.listErr
	}
	var out []*forge.Repo
	for _, r := range f.repos {
		if strings.EqualFold(r.Owner, owner) {
			c := *r
			out = append(out, &c)
		}
	}
	// Map order is random; the Action must sort for itself, so do not.
	return out, nil
}

func (f *fakeForge) CreateRepo(_ context.Context, o forge.CreateOptions) (*forge.Repo, error) {
	f.mu.Lock()
	if f.createErr != nil {
		f.mu.Unlock()
		return nil, f.createErr
	}
	f.created = append(f.created, o)
	head := f.createdHead
	f.mu.Unlock()
	r := forge.Repo{Owner: o.Owner, Name: o.Name, Description: o.Description, Homepage: o.Homepage,
		DefaultBranch: head, Private: o.Visibility != forge.Public, Empty: true}
	f.add(r)
	return &r, nil
}

func (f *fakeForge) UpdateRepo(_ context.Context, owner, name string, u forge.RepoUpdate) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.updateErr != nil {
		return f.updateErr
	}
	f.updates[owner+"/"+name] = u
	return nil
}

func (f *fakeForge) GitURL(owner, name string) string {
	return f.srv.URL + "/" + owner + "/" + name + ".git"
}

func (f *fakeForge) GitCredentials() forge.Credentials { return f.creds }

// createdNames lists the names of created repositories, sorted.
func (f *fakeForge) createdNames() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.created {
		out = append(out, c.Name)
	}
	slices.Sort(out)
	return out
}
