package actioncmd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/localgit"
	"github.com/go-git/go-git/v5"
)

// localPath reports whether an input names a repository on this machine:
// an absolute path, ./… or ../…, or a file:// URL. It returns the path,
// absolute.
func localPath(v string) (string, bool) {
	p, isURL := strings.CutPrefix(v, "file://")
	if !isURL && !filepath.IsAbs(p) && p != "." && p != ".." &&
		!strings.HasPrefix(p, "./") && !strings.HasPrefix(p, "../") {
		return "", false
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", false
	}
	return abs, true
}

// serveLocal serves the sides of ro that are local paths over Git's smart
// HTTP on loopback, in-process (internal/localgit), and points the sync at
// them: the sync core then reads and writes them as any remote. A missing
// local destination is created empty and bare when create-missing is on.
// No token is ever sent to a local side. stop ends the server.
func serveLocal(c *console, ro *repoOptions) (stop func(), err error) {
	if ro.src.local == "" && ro.dst.local == "" {
		return func() {}, nil
	}
	var paths []string
	if ro.src.local != "" {
		paths = append(paths, ro.src.local)
	}
	if d := ro.dst.local; d != "" {
		if err := ensureLocal(c, d, ro.createMissing && !ro.sync.DryRun); err != nil {
			return nil, err
		}
		paths = append(paths, d)
	}
	s, err := localgit.Start(paths...)
	if err != nil {
		return nil, &inputError{msg: err.Error()}
	}
	i := 0
	if ro.src.local != "" {
		ro.sync.Source.URL, ro.sync.Source.Username, ro.sync.Source.Token = s.URL(i), "", ""
		i++
	}
	if ro.dst.local != "" {
		ro.sync.Target.URL, ro.sync.Target.Username, ro.sync.Target.Token = s.URL(i), "", ""
	}
	return func() { s.Close() }, nil
}

// ensureLocal makes sure a local destination is a repository: an existing
// one is used as it is; a missing directory is created as an empty bare
// repository when create is set.
func ensureLocal(c *console, dir string, create bool) error {
	_, err := git.PlainOpen(dir)
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, git.ErrRepositoryNotExists):
		return &inputError{name: inDestination, msg: fmt.Sprintf("%s is not a usable Git repository: %v", dir, err)}
	case !create:
		return &inputError{name: inDestination, msg: fmt.Sprintf("%s is not a Git repository; create it (git init --bare), or set create-missing: true", dir)}
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return &inputError{name: inDestination, msg: fmt.Sprintf("%s is a directory with files but no Git repository; give an empty or missing directory", dir)}
	}
	if _, err := git.PlainInit(dir, true); err != nil {
		return fmt.Errorf("creating a bare repository at %s: %w", dir, err)
	}
	c.printf("created an empty bare repository at %s", dir)
	return nil
}

// display is how a side is named to a person: its path when local.
func (r repo) display(url string) string {
	if r.local != "" {
		return r.local
	}
	return url
}
