package main

import (
	"bytes"
	"crypto/rand"
	"net/http"
	"slices"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/release"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// TestE2ERelease: with releases: true in the settings file, a release
// event for a published release makes the App mirror it within seconds:
// its tag, notes and assets (byte-identical) reach Gitee, a draft does not,
// and the run records each release and asset.
func TestE2ERelease(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	e.f.SetRepo(e2eOwner, "rel", forgetest.RepoMeta{})
	e.install()
	e.push("rel", map[string]string{e2eConfigPath: "target: acme/rel\nreleases: true\n", "README.md": "rel\n"})
	m := e.mirrorTo("rel", "rel")
	if !m.Releases {
		t.Fatalf("mirror from the file: releases off")
	}
	e.waitFor("the first sync creates acme/rel", func() bool { return e.sameRefs(e2eOwner, "rel", e2eGiteeOrg, "rel") })
	e.idle()

	// A tag and its release on GitHub, with two assets, and a draft.
	w := e.repoWork("rel")
	w.Tag("v1.0.0", w.Rev("HEAD"), true)
	if err := w.Push(e.f.GitURL(e2eOwner, "rel"), e2eDevLogin, e2eDevToken, "refs/tags/v1.0.0"); err != nil {
		t.Fatal(err)
	}
	e.f.AddRelease(e2eOwner, "rel", forgetest.ReleaseSpec{Tag: "v1.0.0", Name: "One", Body: "The first release.\n\n- widgets"})
	e.f.AddRelease(e2eOwner, "rel", forgetest.ReleaseSpec{Tag: "v2.0.0", Name: "Next", Draft: true})
	want := map[string]string{}
	for name, size := range map[string]int{"tool-linux.tar.gz": 300 << 10, "checksums.txt": 97} {
		b := make([]byte, size)
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
		want[name] = e.f.AddReleaseAsset(e2eOwner, "rel", "v1.0.0", name, bytes.NewReader(b))
	}

	runs := len(e.finishedRuns(m.ID))
	if code, body := e.github("release", e.f.ReleasePayload("published", e2eOwner, "rel", "v1.0.0", e2eInstallation)); code != http.StatusOK {
		t.Fatalf("release delivery: %d %s", code, body)
	}
	e.waitFor("the release is on Gitee with its assets", func() bool {
		rs := e.f.Releases(e2eGiteeOrg, "rel")
		return len(rs) == 1 && len(rs[0].Assets) == len(want)
	})
	e.idle()
	rs := e.f.Releases(e2eGiteeOrg, "rel")
	if r := rs[0]; r.Tag != "v1.0.0" || r.Name != "One" || r.Body != "The first release.\n\n- widgets" || r.Draft {
		t.Errorf("Gitee release = %+v", r.ReleaseSpec)
	}
	for _, a := range rs[0].Assets {
		if want[a.Name] != a.SHA256 {
			t.Errorf("asset %s on Gitee: sha256 %s, want %s (byte-identical)", a.Name, a.SHA256, want[a.Name])
		}
	}
	if got := e.f.Refs(e2eGiteeOrg, "rel")["refs/tags/v1.0.0"]; got != e.f.Refs(e2eOwner, "rel")["refs/tags/v1.0.0"] {
		t.Errorf("tag on Gitee = %q, want GitHub's", got)
	}
	done := e.finishedRuns(m.ID)[runs:]
	i := slices.IndexFunc(done, func(r *store.SyncRun) bool { return r.Trigger == store.TriggerRelease })
	if i < 0 {
		t.Fatalf("no run triggered by the release event among %d", len(done))
	}
	run := done[i]
	if run.Outcome != store.OutcomeOK || run.Releases == nil || run.Releases.Count(release.Created) != 1 ||
		run.Releases.Assets(release.Created) != 2 || run.Releases.Drafts != 1 {
		t.Errorf("release run: %s %q, releases %+v", run.Outcome, run.ErrorMessage, run.Releases)
	}

	// A second event for the same release uploads nothing.
	uploads := e.f.ReleaseStats().Uploads
	e.github("release", e.f.ReleasePayload("edited", e2eOwner, "rel", "v1.0.0", e2eInstallation))
	e.waitFor("the second release sync is recorded", func() bool { return len(e.finishedRuns(m.ID)) > runs+len(done) })
	e.idle()
	if got := e.f.ReleaseStats().Uploads; got != uploads {
		t.Errorf("uploads after a second event: %d, want still %d", got, uploads)
	}
	e.checkCanaries()
}
