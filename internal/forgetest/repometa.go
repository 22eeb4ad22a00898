package forgetest

import (
	"errors"
	"path/filepath"
	"time"
)

// RepoMeta is a repository's settings as the site APIs show them.
type RepoMeta struct {
	Description   string
	Homepage      string
	DefaultBranch string // the bare repository's HEAD
	Private       bool
	// Internal is Gitee's "internal open" (and GitHub's "internal"
	// visibility): visible only to those with access, like Private, which
	// it implies.
	Internal bool
	Fork     bool
	// Archived repositories are read-only: pushes are refused with
	// GitHub's words, and Gitee shows the status "关闭" (closed).
	Archived bool
}

// SetRepo replaces owner/name's settings, creating the bare repository (as
// CreateRepo does) if it does not exist. An empty DefaultBranch leaves HEAD
// alone; any other value points HEAD at refs/heads/<DefaultBranch> with git
// symbolic-ref, whether that branch exists yet or not.
func (f *Forge) SetRepo(owner, name string, m RepoMeta) {
	f.t.Helper()
	if !f.exists(owner, name) {
		if !validName(owner) || !validName(name) {
			f.t.Fatalf("forgetest: invalid repository name %q/%q", owner, name)
		}
		if err := f.createBare(owner, name, "main"); err != nil && !errors.Is(err, errRepoExists) {
			f.t.Fatalf("forgetest: SetRepo: %v", err)
		}
	}
	st := f.repo(owner, name)
	if st == nil {
		f.t.Fatalf("forgetest: SetRepo: no repository %s/%s", owner, name)
	}
	if m.DefaultBranch != "" {
		if err := f.checkBranchName(m.DefaultBranch); err != nil {
			f.t.Fatalf("forgetest: SetRepo: %v", err)
		}
		if err := f.setHead(owner, name, m.DefaultBranch); err != nil {
			f.t.Fatalf("forgetest: SetRepo: %v", err)
		}
	}
	if err := f.setArchived(owner, name, m.Archived); err != nil {
		f.t.Fatalf("forgetest: SetRepo: %v", err)
	}
	if m.Internal {
		m.Private = true
	}
	f.api.mu.Lock()
	st.meta = m
	st.meta.DefaultBranch = ""
	if m.DefaultBranch != "" {
		st.firstPush = false
	}
	f.api.mu.Unlock()
}

// RepoMeta returns owner/name's settings; ok is false when there is no such
// repository.
func (f *Forge) RepoMeta(owner, name string) (m RepoMeta, ok bool) {
	st := f.repo(owner, name)
	if st == nil {
		return RepoMeta{}, false
	}
	return f.view(st).meta, true
}

// repo returns owner/name's state, making default settings for a repository
// the APIs have not seen yet (one made by CreateRepo): public, nothing else
// set. It returns nil when the repository does not exist.
func (f *Forge) repo(owner, name string) *repoState {
	if !f.exists(owner, name) {
		return nil
	}
	a := f.api
	key := owner + "/" + name
	a.mu.Lock()
	defer a.mu.Unlock()
	if st, ok := a.repos[key]; ok {
		return st
	}
	a.nextID++
	st := &repoState{id: a.nextID, owner: owner, name: name, created: time.Now().UTC()}
	a.repos[key] = st
	return st
}

// repoView is a copy of a repository's state, with its default branch and
// owner resolved, to render without holding locks.
type repoView struct {
	id        int64
	owner     string
	name      string
	display   string
	creator   string
	meta      RepoMeta // DefaultBranch from HEAD
	created   time.Time
	ownerID   int64
	ownerKind accountKind
	empty     bool  // no branches
	sizeKB    int64 // objects on disk
}

// view snapshots st. It also applies the first-push rule: a repository
// created empty through an API whose HEAD names a missing branch takes the
// first branch pushed as its default branch.
func (f *Forge) view(st *repoState) repoView {
	a := f.api
	a.mu.Lock()
	v := repoView{id: st.id, owner: st.owner, name: st.name, display: st.display,
		creator: st.creator, meta: st.meta, created: st.created}
	firstPush := st.firstPush
	owner := a.accounts[st.owner]
	if owner == nil {
		owner = a.user(st.owner)
	}
	v.ownerID, v.ownerKind = owner.id, owner.kind
	a.mu.Unlock()

	dir := f.RepoPath(st.owner, st.name)
	head := headBranch(dir)
	branches := listBranches(dir)
	v.empty = len(branches) == 0
	if firstPush && len(branches) > 0 {
		if !hasBranch(branches, head) {
			head = pickDefault(branches)
			if f.setHead(st.owner, st.name, head) != nil {
				head = headBranch(dir)
			}
		}
		a.mu.Lock()
		st.firstPush = false
		a.mu.Unlock()
	}
	v.meta.DefaultBranch = head
	v.sizeKB = (dirSize(filepath.Join(dir, "objects")) + 1023) / 1024 // GitHub rounds up
	return v
}

// errRepoExists reports a name taken in its namespace.
var errRepoExists = errors.New("repository exists")

// createRepoAPI makes a bare repository for an API request (no t.Fatal: it
// runs on the server's goroutine) with HEAD at refs/heads/<head> and the
// given settings, and grants creator Write on it when creator is a user.
func (f *Forge) createRepoAPI(owner, name, head, creator, display string, m RepoMeta) (*repoState, error) {
	if err := f.createBare(owner, name, head); err != nil {
		return nil, err
	}
	if m.Internal {
		m.Private = true
	}
	st := f.repo(owner, name)
	f.api.mu.Lock()
	st.meta, st.meta.DefaultBranch = m, ""
	st.creator, st.display, st.firstPush = creator, display, true
	f.api.mu.Unlock()
	if creator != "" {
		f.Grant(creator, owner, name, Write)
	}
	return st, nil
}
