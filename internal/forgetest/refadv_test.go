package forgetest

import (
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
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
			for _, args := range [][]string{
				nil,
				{"peel", "symrefs"},
				{"ref-prefix refs/heads/", "ref-prefix refs/tags/", "ref-prefix refs/mirror-backup/"},
				{"peel", "ref-prefix refs/tags/v", "ref-prefix HEAD", "symrefs"},
			} {
				before := inProc.f.Stats()
				want, wantType := postLsRefs(t, byGit.f, args)
				got, gotType := postLsRefs(t, inProc.f, args)
				if got != want || gotType != wantType {
					t.Errorf("ls-refs %q: in-process answer\n%q (%s)\ngit http-backend's\n%q (%s)", args, got, gotType, want, wantType)
				}
				after := inProc.f.Stats()
				if n := after.LsRefsInProcess - before.LsRefsInProcess; (n == 1) != tt.inProcess {
					t.Errorf("ls-refs %q: %d answered in-process, want in-process %v", args, n, tt.inProcess)
				}
				if after.LsRefs-before.LsRefs != 1 || after.UploadPackPOSTs != before.UploadPackPOSTs {
					t.Errorf("ls-refs %q: counted as %+v, want one ls-refs and no fetch", args, after)
				}
			}
			// "unborn" is left to git.
			before := inProc.f.Stats().LsRefsInProcess
			postLsRefs(t, inProc.f, []string{"unborn", "symrefs"})
			if n := inProc.f.Stats().LsRefsInProcess - before; n != 0 {
				t.Errorf("an ls-refs with unborn answered in-process")
			}
		})
	}
}

// postLsRefs POSTs a protocol v2 ls-refs with args for alice/src as alice.
func postLsRefs(t *testing.T, f *Forge, args []string) (body, contentType string) {
	t.Helper()
	var req strings.Builder
	pkt := func(s string) { fmt.Fprintf(&req, "%04x%s", len(s)+4, s) }
	pkt("command=ls-refs\n")
	pkt("agent=test\n")
	req.WriteString("0001")
	for _, a := range args {
		pkt(a + "\n")
	}
	req.WriteString("0000")
	r, err := http.NewRequest(http.MethodPost, f.GitURL("alice", "src")+"/git-upload-pack", strings.NewReader(req.String()))
	if err != nil {
		t.Fatal(err)
	}
	r.SetBasicAuth("alice", aliceToken)
	r.Header.Set("Git-Protocol", "version=2")
	r.Header.Set("Content-Type", "application/x-git-upload-pack-request")
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("ls-refs %q: %d %v: %s", args, resp.StatusCode, err, data)
	}
	return string(data), resp.Header.Get("Content-Type")
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
