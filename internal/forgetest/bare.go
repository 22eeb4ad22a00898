package forgetest

import (
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// bareTemplate is an empty bare repository that accepts pushes, made once
// per forge with git init; createBare copies it, which is much faster than
// running git for each of hundreds of repositories.
type bareTemplate struct {
	once sync.Once
	dir  string
	err  error
}

// createBare makes the bare repository owner/name (registered like
// CreateRepo's, pushable) with HEAD at refs/heads/<head>. It returns
// errRepoExists when the name is taken. It never calls t.Fatal, so API
// handlers may use it.
func (f *Forge) createBare(owner, name, head string) error {
	key := owner + "/" + name
	// The name is reserved (false) while the copy runs and known (true)
	// only once the repository is complete: a repository that exists for
	// the APIs must already be a repository for git.
	f.mu.Lock()
	if _, taken := f.known[key]; taken {
		f.mu.Unlock()
		return errRepoExists
	}
	f.known[key] = false
	f.mu.Unlock()
	path := f.RepoPath(owner, name)
	err := f.copyTemplate(path)
	if err == nil {
		err = os.WriteFile(filepath.Join(path, "HEAD"), []byte("ref: refs/heads/"+head+"\n"), 0o644)
	}
	f.mu.Lock()
	if err != nil {
		os.RemoveAll(path)
		delete(f.known, key)
	} else {
		f.known[key] = true
	}
	f.mu.Unlock()
	return err
}

// copyTemplate copies the bare repository template to dst.
func (f *Forge) copyTemplate(dst string) error {
	tpl := &f.api.template
	tpl.once.Do(func() {
		tpl.dir = filepath.Join(filepath.Dir(f.repos), "template.git")
		_, tpl.err = runGit(f.home, "", "init", "--bare", "-q", "-b", "main", tpl.dir)
		if tpl.err == nil {
			_, tpl.err = runGit(f.home, tpl.dir, "config", "http.receivepack", "true")
		}
		if tpl.err == nil {
			// No `git gc --auto` after every push: the sites this forge
			// stands in for do their housekeeping elsewhere, and it would
			// be one more process per push on the cores being measured.
			_, tpl.err = runGit(f.home, tpl.dir, "config", "receive.autogc", "false")
		}
		if tpl.err == nil {
			// Partial clone's filters, as GitHub and Gitee serve them.
			_, tpl.err = runGit(f.home, tpl.dir, "config", "uploadpack.allowFilter", "true")
		}
		// Keep only what git needs (HEAD, config, objects/, refs/) and an
		// empty hooks/ (RejectRef writes there): every file costs when
		// hundreds of repositories are made.
		extra, _ := filepath.Glob(filepath.Join(tpl.dir, "hooks", "*"))
		for _, n := range []string{"info", "branches", "description"} {
			extra = append(extra, filepath.Join(tpl.dir, n))
		}
		for _, path := range extra {
			if tpl.err == nil {
				tpl.err = os.RemoveAll(path)
			}
		}
	})
	if tpl.err != nil {
		return tpl.err
	}
	return filepath.WalkDir(tpl.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(tpl.dir, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}
