package forgetest

// RepoID is the id the fake APIs give owner/name (assigned when a
// repository is first seen by them), or 0 when there is no such
// repository. A test that writes records the App would have made from API
// answers (a mirror's GitHub repository id) reads it here.
func (f *Forge) RepoID(owner, name string) int64 {
	st := f.repo(owner, name)
	if st == nil {
		return 0
	}
	f.api.mu.Lock()
	defer f.api.mu.Unlock()
	return st.id
}
