package forgetest

// ReleasePayload builds the payload of a GitHub release event (action
// published, created, edited, prereleased, released, unpublished or
// deleted) for owner/repo's release of tag as the forge has it now (build
// a deleted event before the release goes): action, release (the full
// object, assets included), repository, sender, and installation {id}
// when installationID is not 0. Tests may change the returned map before
// sending it.
func (f *Forge) ReleasePayload(action, owner, repo, tag string, installationID int64) map[string]any {
	f.t.Helper()
	v := f.eventRepo("ReleasePayload", owner, repo)
	s := f.rel()
	s.mu.Lock()
	r := s.byTag(owner+"/"+repo, tag)
	s.mu.Unlock()
	if r == nil {
		f.t.Fatalf("forgetest: ReleasePayload: %s/%s has no release of tag %s", owner, repo, tag)
	}
	acc, _ := f.lookupAccount(owner)
	if acc.name == "" {
		acc = account{name: owner, kind: userAccount}
	}
	p := map[string]any{
		"action":     action,
		"release":    f.githubReleaseJSON(owner, repo, r),
		"repository": f.eventRepoJSON(&v),
		"sender":     f.githubAccountJSON(acc),
	}
	if installationID != 0 {
		p["installation"] = installationRef(installationID)
	}
	return p
}
