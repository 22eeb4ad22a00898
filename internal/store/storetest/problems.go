package storetest

import (
	"reflect"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

func testConfigProblems(t *testing.T, open Opener) {
	b := setup(t, open)
	b.installation(t, 1)
	b.installation(t, 2)
	p := &store.ConfigProblem{InstallationID: 1, GitHubRepoID: 10, Repo: "acct1/widget", CommitSHA: "c0ffee",
		Errors: []store.ConfigError{{Line: 2, Key: "direction", Message: `want push or pull, got "sideways"`}, {Message: "the file is empty"}}}
	noErr(t, "SetConfigProblem", b.s.SetConfigProblem(b.ctx, p))
	if p.UpdatedAt.IsZero() {
		t.Error("SetConfigProblem left UpdatedAt zero")
	}
	got, err := b.s.ConfigProblem(b.ctx, 10)
	if err != nil || got.Repo != p.Repo || got.CommitSHA != "c0ffee" || got.InstallationID != 1 || !reflect.DeepEqual(got.Errors, p.Errors) ||
		!got.UpdatedAt.Equal(p.UpdatedAt) {
		t.Errorf("ConfigProblem = %+v, %v; want %+v", got, err, p)
	}
	// Replaced, not added to.
	p.CommitSHA, p.Errors = "beef", []store.ConfigError{{Line: 1, Key: "target", Message: "missing"}}
	noErr(t, "SetConfigProblem again", b.s.SetConfigProblem(b.ctx, p))
	noErr(t, "SetConfigProblem of another installation", b.s.SetConfigProblem(b.ctx, &store.ConfigProblem{InstallationID: 2, GitHubRepoID: 20, Repo: "acct2/x", CommitSHA: "1"}))
	list, err := b.s.ListConfigProblems(b.ctx, 1)
	if err != nil || len(list) != 1 || list[0].CommitSHA != "beef" || len(list[0].Errors) != 1 {
		t.Errorf("ListConfigProblems(1) = %+v, %v", list, err)
	}
	if all, err := b.s.ListConfigProblems(b.ctx, 0); err != nil || len(all) != 2 || all[0].GitHubRepoID != 10 || all[1].Errors != nil {
		t.Errorf("ListConfigProblems(0) = %+v, %v", all, err)
	}
	wantErr(t, "SetConfigProblem of an unknown installation",
		b.s.SetConfigProblem(b.ctx, &store.ConfigProblem{InstallationID: 99, GitHubRepoID: 30, Repo: "x/y"}), store.ErrNotFound)

	noErr(t, "ClearConfigProblem", b.s.ClearConfigProblem(b.ctx, 10))
	noErr(t, "ClearConfigProblem twice", b.s.ClearConfigProblem(b.ctx, 10))
	_, err = b.s.ConfigProblem(b.ctx, 10)
	wantErr(t, "ConfigProblem after clearing", err, store.ErrNotFound)
	// An uninstalled App's problems go with the installation.
	noErr(t, "DeleteInstallation", b.s.DeleteInstallation(b.ctx, 2))
	if all, err := b.s.ListConfigProblems(b.ctx, 0); err != nil || len(all) != 0 {
		t.Errorf("ListConfigProblems after clearing and uninstalling = %+v, %v", all, err)
	}
}
