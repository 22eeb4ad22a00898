// Package storetest is the conformance suite every store.Store backend
// passes: the SQLite backend now, Postgres later. A backend's own test calls
// Run with an Opener; the suite holds every rule of the store package's
// contract, so backends cannot drift apart.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// Opener opens a store for test t.
//
// The first call within a t opens a fresh, empty database; later calls with
// the same t reopen that same database (the suite closes the previous store
// first). withKey says whether the store gets the encryption key; a backend
// uses one key for all of t, so a reopen with the key reads what an earlier
// store sealed. The store records times with the real clock. The Opener
// closes what it opens in t.Cleanup, so Close must be safe to call twice.
//
// A Postgres Opener, say, would create a schema (or database) per t on the
// first call and connect to it again on later ones.
type Opener func(t *testing.T, withKey bool) store.Store

// Run runs the whole suite against the backend open opens. Subtests run in
// parallel, each on its own database.
func Run(t *testing.T, open Opener) {
	t.Helper()
	groups := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"Installations", testInstallations},
		{"Mirrors", testMirrors},
		{"MirrorHook", testMirrorHook},
		{"Pause", testPause},
		{"RequestSync", testRequestSync},
		{"Runs", testRuns},
		{"History", testHistory},
		{"RefState", testRefState},
		{"Credentials", testCredentials},
		{"Settings", testSettings},
		{"States", testStates},
		{"ConfigProblems", testConfigProblems},
		{"Leases", testLeases},
		{"Progress", testProgress},
		{"Secrets", testSecrets},
		{"Reopen", testReopen},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			g.fn(t, open)
		})
	}
}

// bundle is what most subtests need: a context and a fresh store.
type bundle struct {
	ctx context.Context
	s   store.Store
}

// setup opens a fresh store with the key.
func setup(t *testing.T, open Opener) *bundle {
	t.Helper()
	return &bundle{ctx: t.Context(), s: open(t, true)}
}

// installation stores an installation with id.
func (b *bundle) installation(t *testing.T, id int64) store.Installation {
	t.Helper()
	in := store.Installation{ID: id, Account: fmt.Sprintf("acct%d", id), AccountType: "Organization"}
	if err := b.s.UpsertInstallation(b.ctx, in); err != nil {
		t.Fatalf("UpsertInstallation(%d): %v", id, err)
	}
	return in
}

// newMirror is an unsaved mirror of GitHub repository repoID (owner/r<id>)
// to Gitee gitee-owner/<target>.
func newMirror(installationID, repoID int64, target string) *store.Mirror {
	return &store.Mirror{
		InstallationID: installationID,
		GitHubRepoID:   repoID,
		A:              store.Side{Site: forge.GitHub, Owner: "owner", Name: fmt.Sprintf("r%d", repoID)},
		B:              store.Side{Site: forge.Gitee, Owner: "gitee-owner", Name: target},
		Direction:      store.AToB,
		ConfigSource:   "file",
	}
}

// mirror creates m and returns it.
func (b *bundle) mirror(t *testing.T, m *store.Mirror) *store.Mirror {
	t.Helper()
	if err := b.s.CreateMirror(b.ctx, m); err != nil {
		t.Fatalf("CreateMirror(%s → %s): %v", m.A.FullName(), m.B.FullName(), err)
	}
	return m
}

// get loads a mirror that must exist.
func (b *bundle) get(t *testing.T, id int64) *store.Mirror {
	t.Helper()
	m, err := b.s.GetMirror(b.ctx, id)
	if err != nil {
		t.Fatalf("GetMirror(%d): %v", id, err)
	}
	return m
}

// run starts and finishes a run of mirrorID with outcome, returning the
// failure count.
func (b *bundle) run(t *testing.T, mirrorID int64, outcome store.Outcome) int {
	t.Helper()
	r := &store.SyncRun{MirrorID: mirrorID, Trigger: "push"}
	if err := b.s.StartRun(b.ctx, r); err != nil {
		t.Fatalf("StartRun: %v", err)
	}
	r.Outcome = outcome
	switch outcome {
	case "failed":
		r.ErrorClass, r.ErrorMessage = "network", "connection reset"
	case "interrupted":
		r.ErrorClass, r.ErrorMessage = "timeout", "interrupted"
	}
	n, err := b.s.FinishRun(b.ctx, r)
	if err != nil {
		t.Fatalf("FinishRun(%s): %v", outcome, err)
	}
	return n
}

// wantErr fails unless errors.Is(err, target).
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error = %v, want %v", what, err, target)
	}
}

// noErr fails the test now on an error.
func noErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// timeTolerance allows for backends that keep microseconds (Postgres).
const timeTolerance = time.Microsecond

// sameTime reports whether two times are equal within timeTolerance.
func sameTime(a, b time.Time) bool {
	if a.IsZero() || b.IsZero() {
		return a.IsZero() == b.IsZero()
	}
	return a.Sub(b).Abs() <= timeTolerance
}

// wantTime fails unless got and want are the same instant.
func wantTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !sameTime(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// wantRecent fails unless got lies in [from, now], with tolerance.
func wantRecent(t *testing.T, what string, got, from time.Time) {
	t.Helper()
	if got.Before(from.Add(-time.Millisecond)) || got.After(time.Now().Add(time.Millisecond)) {
		t.Errorf("%s = %v, want a time since %v", what, got, from)
	}
}
