package forgetest

import "testing"

// LFSInit sets up Git LFS (Debian's git-lfs) in the work tree: its filters
// and hooks in the repository's own configuration, and no calls to the
// locking API, which the forge does not serve.
func (w *Work) LFSInit() {
	w.t.Helper()
	w.Run("lfs", "install", "--local")
	w.Run("config", "lfs.locksverify", "false")
}

// LFSTrack sets up Git LFS (LFSInit) and makes files matching pattern LFS
// objects; the .gitattributes it writes is committed with the next Commit.
func (w *Work) LFSTrack(pattern string) {
	w.t.Helper()
	w.LFSInit()
	w.Run("lfs", "track", pattern)
}

// CloneLFS clones url as login with token (see [Work.Git]) and then
// downloads and checks out its LFS objects with git lfs pull.
func CloneLFS(t testing.TB, url, login, token string) (*Work, error) {
	t.Helper()
	w, err := Clone(t, url, login, token)
	if err != nil {
		return nil, err
	}
	w.LFSInit()
	if _, err := w.Git(login, token, "lfs", "pull"); err != nil {
		return nil, err
	}
	return w, nil
}
