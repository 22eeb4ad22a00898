package forgetest

import (
	"io"
	"net/http"
	"os/exec"
	"testing"
)

// TestInProcessRefAdvertisement: with InProcessRefAdvertisement the forge
// answers ref listings of repositories whose refs are all packed itself,
// with the bytes and headers git http-backend sends, and leaves the rest
// to git.
func TestInProcessRefAdvertisement(t *testing.T) {
	t.Parallel()
	pack := func(b bundle, owner, name string) {
		t.Helper()
		if out, err := exec.Command("git", "-C", b.f.RepoPath(owner, name), "pack-refs", "--all").CombinedOutput(); err != nil {
			t.Fatalf("pack-refs: %v\n%s", err, out)
		}
	}
	tests := map[string]struct {
		prepare   func(b bundle)
		inProcess bool
	}{
		"empty repository": {prepare: func(bundle) {}, inProcess: true},
		"packed branches and tags": {prepare: func(b bundle) {
			b.seed(t)
			pack(b, "alice", "src")
		}, inProcess: true},
		"HEAD names a missing branch": {prepare: func(b bundle) {
			b.seed(t)
			pack(b, "alice", "src")
			b.f.SetRepo("alice", "src", RepoMeta{DefaultBranch: "gone"})
		}, inProcess: true},
		"loose refs go to git": {prepare: func(b bundle) { b.seed(t) }, inProcess: false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			// Each case on fresh forges: the repositories differ.
			byGit, inProc := setup(t), setup(t, InProcessRefAdvertisement())
			tt.prepare(byGit)
			tt.prepare(inProc)
			for _, service := range []string{"git-upload-pack", "git-receive-pack"} {
				before := inProc.f.Stats().InfoRefsInProcess
				want, wantType := listRefs(t, byGit.f, service)
				got, gotType := listRefs(t, inProc.f, service)
				if got != want || gotType != wantType {
					t.Errorf("%s: in-process answer\n%q (%s)\ngit http-backend's\n%q (%s)", service, got, gotType, want, wantType)
				}
				if n := inProc.f.Stats().InfoRefsInProcess - before; (n == 1) != tt.inProcess {
					t.Errorf("%s: %d answered in-process, want in-process %v", service, n, tt.inProcess)
				}
			}
		})
	}
}

// listRefs GETs alice/src's ref advertisement for service as alice.
func listRefs(t *testing.T, f *Forge, service string) (body, contentType string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.GitURL("alice", "src")+"/info/refs?service="+service, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("alice", aliceToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET info/refs?service=%s: %d %v: %s", service, resp.StatusCode, err, data)
	}
	return string(data), resp.Header.Get("Content-Type")
}
