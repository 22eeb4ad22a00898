package lfs_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/lfs"
	"github.com/gitee-mirror/gitee-mirror/internal/logtest"
)

const (
	srcToken   = "src-token-lfs-0123456789"
	dstToken   = "dst-token-lfs-9876543210"
	adminToken = "admin-token-lfs-5555"
)

type bundle struct {
	forge *forgetest.Forge
	logs  *logtest.Buffer
	cp    *lfs.Copier
}

// setup makes a forge with a source (gh/proj, readable by alice) and a
// target (ge/proj, writable by bob) and a Copier between them.
func setup(t *testing.T) *bundle {
	t.Helper()
	t.Parallel()
	f := forgetest.New(t)
	f.AddUser("alice", srcToken)
	f.AddUser("bob", dstToken)
	f.AddUser("admin", adminToken)
	f.CreateRepo("gh", "proj")
	f.CreateRepo("ge", "proj")
	f.Grant("alice", "gh", "proj", forgetest.Read)
	f.Grant("bob", "ge", "proj", forgetest.Write)
	f.Grant("admin", "gh", "*", forgetest.Write)
	f.Grant("admin", "ge", "*", forgetest.Write)
	logs := &logtest.Buffer{}
	src, err := lfs.NewClient(lfs.Remote{Side: "source", GitURL: f.GitURL("gh", "proj"), Username: "alice", Token: srcToken}, nil, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	dst, err := lfs.NewClient(lfs.Remote{Side: "target", GitURL: f.GitURL("ge", "proj"), Username: "bob", Token: dstToken}, nil, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	cp := &lfs.Copier{Source: src, Target: dst, RetryDelay: time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	b := &bundle{forge: f, logs: logs, cp: cp}
	t.Cleanup(func() { b.noSecrets(t) })
	return b
}

// noSecrets fails the test if a token or a storage ticket reached the logs.
func (b *bundle) noSecrets(t *testing.T) {
	t.Helper()
	logs := b.logs.String()
	for _, s := range []string{srcToken, dstToken, adminToken, "lfs-ticket-", "RemoteAuth"} {
		if strings.Contains(logs, s) {
			t.Errorf("logs contain a secret (%q):\n%s", s, logs)
		}
	}
}

// seed stores n objects of size bytes on the source and returns their
// pointers and contents.
func (b *bundle) seed(t *testing.T, n, size int) ([]lfs.Pointer, map[string][]byte) {
	t.Helper()
	var ps []lfs.Pointer
	data := map[string][]byte{}
	for i := range n {
		unit := []byte(fmt.Sprintf("%s object %d;", t.Name(), i))
		d := bytes.Repeat(unit, size/len(unit)+1)[:size]
		oid := b.forge.PutLFSObject("gh", "proj", d)
		ps = append(ps, lfs.Pointer{OID: oid, Size: int64(size)})
		data[oid] = d
	}
	return ps, data
}

// onTarget checks that the target holds exactly want, byte for byte.
func (b *bundle) onTarget(t *testing.T, want map[string][]byte) {
	t.Helper()
	have := b.forge.LFSObjects("ge", "proj")
	if len(have) != len(want) {
		t.Errorf("target has %d objects, want %d", len(have), len(want))
	}
	for oid, d := range want {
		got, err := os.ReadFile(b.forge.LFSObjectPath("ge", "proj", oid))
		if err != nil || !bytes.Equal(got, d) {
			t.Errorf("target's %s: %d bytes, %v; want the %d bytes of the source", oid[:12], len(got), err, len(d))
		}
	}
}

func (b *bundle) copy(t *testing.T, ps []lfs.Pointer) *lfs.Report {
	t.Helper()
	rep, err := b.cp.Copy(context.Background(), ps)
	if err != nil {
		t.Fatalf("Copy: %v", err)
	}
	return rep
}

func TestCopy(t *testing.T) {
	b := setup(t)
	ps, data := b.seed(t, 12, 70_000)
	ps = append(ps, ps[0]) // named twice, copied once
	rep := b.copy(t, ps)
	if rep.Objects != 12 || rep.Uploaded != 12 || rep.Present != 0 || !rep.Complete() || rep.UploadedBytes != 12*70_000 {
		t.Fatalf("report = %+v", rep)
	}
	b.onTarget(t, data)

	b.forge.ResetLFSStats()
	rep = b.copy(t, ps)
	if rep.Uploaded != 0 || rep.Present != 12 {
		t.Errorf("second copy: report = %+v, want nothing uploaded", rep)
	}
	if st := b.forge.LFSStats(); st.Downloads != 0 || st.Uploads != 0 || st.Batches != 1 {
		t.Errorf("second copy: %+v, want one batch request and no transfer", st)
	}
	if st := b.forge.LFSStats(); st.BasicAuthStorage != 0 {
		t.Errorf("storage was reached with Git credentials instead of the links' headers: %+v", st)
	}
}

func TestCopyOnlyWhatTheTargetLacks(t *testing.T) {
	b := setup(t)
	ps, data := b.seed(t, 5, 1000)
	for _, p := range ps[:3] {
		b.forge.PutLFSObject("ge", "proj", data[p.OID])
	}
	b.forge.ResetLFSStats()
	rep := b.copy(t, ps)
	if rep.Uploaded != 2 || rep.Present != 3 || !rep.Complete() {
		t.Fatalf("report = %+v, want 2 uploaded and 3 present", rep)
	}
	if st := b.forge.LFSStats(); st.Downloads != 2 || st.Uploads != 2 {
		t.Errorf("stats = %+v, want 2 downloads and 2 uploads", st)
	}
	b.onTarget(t, data)
}

func TestCopyTargetWithoutLFS(t *testing.T) {
	for _, status := range []int{http.StatusNotFound, http.StatusForbidden, http.StatusNotImplemented} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			b := setup(t)
			ps, _ := b.seed(t, 3, 500)
			b.forge.DisableLFS("ge", "proj", status)
			rep := b.copy(t, ps)
			if rep.Unavailable == nil || !errors.Is(rep.Unavailable, lfs.ErrNoLFS) || rep.Unavailable.Status != status {
				t.Fatalf("Unavailable = %v, want the target's %d", rep.Unavailable, status)
			}
			if len(rep.Failed) != 3 || rep.FailedBytes() != 1500 || rep.Uploaded != 0 {
				t.Errorf("report = %+v, want 3 objects (1500 bytes) not copied", rep)
			}
			if msg := rep.Unavailable.Error(); !strings.Contains(msg, "has no Git LFS storage") || !strings.Contains(msg, "Gitee") {
				t.Errorf("message %q does not say what is wrong and what to do", msg)
			}
			if st := b.forge.LFSStats(); st.Downloads != 0 {
				t.Errorf("downloaded %d objects for a target that cannot take them", st.Downloads)
			}
		})
	}
}

func TestCopyCorruptDownloadRetried(t *testing.T) {
	for name, how := range map[string]forgetest.LFSCorruption{
		"flipped byte": forgetest.LFSFlipByte, "extra byte": forgetest.LFSExtraByte, "short": forgetest.LFSShort,
	} {
		t.Run(name, func(t *testing.T) {
			b := setup(t)
			ps, data := b.seed(t, 1, 200_000)
			b.forge.CorruptNextLFSDownloads(how)
			rep := b.copy(t, ps)
			if rep.Uploaded != 1 || !rep.Complete() {
				t.Fatalf("report = %+v, want the object copied on a second try", rep)
			}
			if st := b.forge.LFSStats(); st.Downloads != 2 || st.Uploads != 1 {
				t.Errorf("stats = %+v, want 2 downloads and 1 upload", st)
			}
			b.onTarget(t, data)
			if !strings.Contains(b.logs.String(), "corrupt") {
				t.Errorf("the retry's reason is not logged:\n%s", b.logs)
			}
		})
	}
}

func TestCopyCorruptEveryTimeRefused(t *testing.T) {
	b := setup(t)
	ps, _ := b.seed(t, 1, 5000)
	b.forge.CorruptNextLFSDownloads(forgetest.LFSFlipByte, forgetest.LFSFlipByte, forgetest.LFSFlipByte)
	rep := b.copy(t, ps)
	if len(rep.Failed) != 1 || !strings.Contains(rep.Failed[0].Message, "corrupt") {
		t.Fatalf("report = %+v, want the object refused as corrupt", rep)
	}
	b.onTarget(t, nil)
}

func TestCopyUploadFailureRetried(t *testing.T) {
	b := setup(t)
	ps, data := b.seed(t, 3, 10_000)
	b.forge.FailNextLFSUploads(2, http.StatusInternalServerError)
	rep := b.copy(t, ps)
	if rep.Uploaded != 3 || !rep.Complete() {
		t.Fatalf("report = %+v", rep)
	}
	b.onTarget(t, data)
}

func TestCopyExpiredLinksRefreshed(t *testing.T) {
	b := setup(t)
	ps, data := b.seed(t, 2, 1000)
	// The target's upload batch, then the source's download batch: all
	// four links are past their expiry when they arrive.
	b.forge.ExpireNextLFSLinks(2*2 + 2)
	rep := b.copy(t, ps)
	if rep.Uploaded != 2 || !rep.Complete() {
		t.Fatalf("report = %+v", rep)
	}
	if st := b.forge.LFSStats(); st.Downloads != 2 {
		t.Errorf("%d downloads: an expired link was used", st.Downloads)
	}
	b.onTarget(t, data)
}

func TestCopyMissingOnSource(t *testing.T) {
	b := setup(t)
	ps, data := b.seed(t, 1, 100)
	ghost := lfs.Pointer{OID: strings.Repeat("ab", 32), Size: 10}
	rep := b.copy(t, append(ps, ghost))
	if rep.Uploaded != 1 || len(rep.Failed) != 1 || rep.Failed[0].OID != ghost.OID || rep.Failed[0].Class != failure.NotFound {
		t.Fatalf("report = %+v, want the ghost reported not found", rep)
	}
	b.onTarget(t, data)
}

func TestCopyTargetRefusesCredentials(t *testing.T) {
	b := setup(t)
	ps, _ := b.seed(t, 1, 100)
	dst, err := lfs.NewClient(lfs.Remote{Side: "target", GitURL: b.forge.GitURL("ge", "proj"), Username: "bob", Token: "wrong-token-123"}, nil, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	b.cp.Target = dst
	rep := b.copy(t, ps)
	if len(rep.Failed) != 1 || rep.Failed[0].Class != failure.Auth || rep.Unavailable != nil {
		t.Fatalf("report = %+v, want an auth failure, not 'no LFS'", rep)
	}
	if strings.Contains(rep.Failed[0].Message, "wrong-token-123") {
		t.Errorf("message leaks the token: %s", rep.Failed[0].Message)
	}
}
