package mirror_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// Memory bounds of the hostile-server tests. Each case runs in its own
// process (a re-run of this test binary), so that a case that blows up
// kills only that process and its peak memory is its own: with a soft Go
// limit, under an address-space limit where the race detector allows one,
// and with the Go runtime's peak footprint checked afterwards.
const (
	hostileSoftLimit = 256 << 20 // debug.SetMemoryLimit in the child
	hostileAddrLimit = 4 << 30   // ulimit -v of the child (not under -race)
	hostileMaxSys    = 512 << 20 // the child's runtime.MemStats.Sys must stay below
)

const hostileCaseEnv = "GITEE_MIRROR_HOSTILE_CASE"

// hostileCase is a server that sends what no honest Git server would, and
// what the sync must answer.
type hostileCase struct {
	// source and target return the URLs of the two sides; nil means an
	// honest forgetest repository (the source with one commit on main).
	source, target func(t *testing.T) string
	wantClass      failure.Class // "" means the sync succeeds
	wantSide       string        // "source" or "target"
	wantSaid       string        // what the error says the server sent
}

func hostileCases() map[string]hostileCase {
	c0 := commitBody(0)
	head := commitID(c0)
	pack := func(objects ...[]byte) []byte {
		p := packHeader(uint32(len(objects)))
		for _, o := range objects {
			p = append(p, o...)
		}
		return finishPack(p)
	}
	object := func(typ byte, body []byte) []byte {
		return append(objectHeader(typ, uint64(len(body))), deflate(body)...)
	}
	src := func(h hostileSource) func(t *testing.T) string {
		h.head = head
		return h.serve
	}
	// A delta against the first object (a commit at offset 12) that claims
	// to make a 1 TiB commit.
	base := object(1, c0)
	delta := append(append(leb128(uint64(len(c0))), leb128(1<<40)...), 1, 'x')
	ofsDelta := append(objectHeader(6, uint64(len(delta))), byte(len(base))) // offset back to the base, < 128
	ofsDelta = append(ofsDelta, deflate(delta)...)
	refLine := func(i int) []byte { return []byte(pkt(fmt.Sprintf("%s refs/heads/b%09d\n", head, i))) }

	return map[string]hostileCase{
		"pack header claims 4294967295 objects": {
			source:    src(hostileSource{pack: packHeader(0xffffffff)}),
			wantClass: failure.Network, wantSide: "source", wantSaid: "announces 4294967295 objects but that ends after 0",
		},
		"commit declared 2 GiB": {
			source:    src(hostileSource{pack: pack(append(objectHeader(1, 1<<31), deflate([]byte("x"))...))}),
			wantClass: failure.Rejected, wantSide: "source", wantSaid: "commit (or delta) of 2147483648 bytes",
		},
		"delta claims a 1 TiB commit": {
			source:    src(hostileSource{pack: pack(base, ofsDelta)}),
			wantClass: failure.Rejected, wantSide: "source", wantSaid: "would make 1099511627776 bytes",
		},
		"commit of 5000 parents": {
			source:    src(hostileSource{pack: pack(object(1, commitBody(5000)))}),
			wantClass: failure.Rejected, wantSide: "source", wantSaid: "commit of 5000 parents",
		},
		"commits fetched apart: a commit of 5000 parents": {
			// A relayed pack this big has its commits fetched apart (where
			// the source can filter); that pack breaks a limit, and the
			// relay must fail rather than complete the push.
			source: src(hostileSource{
				pack:    packHeader(1 << 20),
				commits: pack(object(1, commitBody(5000))),
			}),
			wantClass: failure.Rejected, wantSide: "source", wantSaid: "commit of 5000 parents",
		},
		"endless ref advertisement": {
			source: src(hostileSource{adv: func(w io.Writer) {
				io.WriteString(w, pkt(head+" HEAD\x00side-band-64k ofs-delta agent=git/2.43\n"))
				writeUntil(w, 256<<20, refLine)
			}}),
			wantClass: failure.Rejected, wantSide: "source", wantSaid: "ref advertisement of more than 32 MiB",
		},
		"endless negotiation": {
			source: src(hostileSource{negotiation: func(w io.Writer) {
				writeUntil(w, 64<<20, func(int) []byte { return []byte(pkt("NAK\n")) })
			}}),
			wantClass: failure.Rejected, wantSide: "source", wantSaid: "negotiation lines before the pack",
		},
		"ERR line instead of a pack": {
			source: src(hostileSource{negotiation: func(w io.Writer) {
				io.WriteString(w, pkt("ERR upload-pack: go away\n"))
			}}),
			wantClass: failure.Rejected, wantSide: "source", wantSaid: "refused: upload-pack: go away",
		},
		"endless push report": {
			target: func(t *testing.T) string {
				return hostileTarget(t, func(w io.Writer) {
					w.Write(band(1, []byte(pkt("unpack ok\n"))))
					writeUntil(w, 64<<20, func(i int) []byte {
						return band(1, []byte(pkt(fmt.Sprintf("ok refs/heads/x%09d\n", i))))
					})
				})
			},
			wantClass: failure.Rejected, wantSide: "target", wantSaid: "push report of more than 65 lines for 1 commands",
		},
		"progress flood before an honest report": {
			target: func(t *testing.T) string {
				return hostileTarget(t, func(w io.Writer) {
					line := bytes.Repeat([]byte("remote: counting objects, please wait\r"), 1600)
					writeUntil(w, 64<<20, func(int) []byte { return band(2, line) })
					w.Write(band(1, []byte(pkt("unpack ok\n")+pkt("ok refs/heads/main\n")+"0000")))
					io.WriteString(w, "0000")
				})
			},
		},
	}
}

// TestHostileServers runs each hostile case in a child process and checks
// that the child finished (no "fatal error: out of memory"), answered as the
// case wants, and kept its memory within hostileMaxSys.
func TestHostileServers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process per case")
	}
	for name := range hostileCases() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			args := []string{"-test.run=^TestHostileChild$", "-test.count=1", "-test.v"}
			var cmd *exec.Cmd
			if raceEnabled {
				cmd = exec.Command(os.Args[0], args...)
			} else {
				script := fmt.Sprintf(`ulimit -v %d && exec "$0" "$@"`, hostileAddrLimit>>10)
				cmd = exec.Command("/bin/sh", append([]string{"-c", script, os.Args[0]}, args...)...)
			}
			cmd.Env = append(os.Environ(), hostileCaseEnv+"="+name)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child failed: %v\n%s", err, tail(out, 4000))
			}
			m := regexp.MustCompile(`hostile-peak: vmhwm=(\d+)kB sys=(\d+) heapsys=(\d+)`).FindSubmatch(out)
			if m == nil {
				t.Fatalf("child printed no peak figures:\n%s", tail(out, 4000))
			}
			sys, _ := strconv.ParseInt(string(m[2]), 10, 64)
			t.Logf("peak: VmHWM %s kB, Go runtime Sys %d MiB, HeapSys %s bytes (race=%v)", m[1], sys>>20, m[3], raceEnabled)
			if sys > hostileMaxSys {
				t.Errorf("the child's Go runtime took %d MiB from the OS, want under %d MiB", sys>>20, hostileMaxSys>>20)
			}
		})
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// TestHostileChild is one hostile case, run by TestHostileServers.
func TestHostileChild(t *testing.T) {
	name := os.Getenv(hostileCaseEnv)
	if name == "" {
		t.Skip("run by TestHostileServers")
	}
	c, ok := hostileCases()[name]
	if !ok {
		t.Fatalf("no hostile case %q", name)
	}
	debug.SetMemoryLimit(hostileSoftLimit)
	defer reportPeak()

	f := forgetest.New(t)
	f.AddUser("alice", srcToken)
	f.AddUser("bob", dstToken)
	f.AddUser("admin", adminToken)
	f.CreateRepo("gh", "proj")
	f.CreateRepo("ge", "proj")
	f.Grant("alice", "gh", "proj", forgetest.Read)
	f.Grant("bob", "ge", "proj", forgetest.Write)
	f.Grant("admin", "gh", "*", forgetest.Write)
	srcURL, dstURL := f.GitURL("gh", "proj"), f.GitURL("ge", "proj")
	if c.source != nil {
		srcURL = c.source(t)
	} else {
		w := forgetest.NewWork(t)
		w.Commit("one", map[string]string{"a.txt": "1"})
		if err := w.Push(srcURL, "admin", adminToken, "refs/heads/main:refs/heads/main"); err != nil {
			t.Fatal(err)
		}
	}
	if c.target != nil {
		dstURL = c.target(t)
	}
	var logs syncBuffer
	res, err := mirror.Sync(context.Background(), mirror.Options{
		Source:     mirror.Endpoint{URL: srcURL, Username: "alice", Token: srcToken},
		Target:     mirror.Endpoint{URL: dstURL, Username: "bob", Token: dstToken},
		CacheDir:   t.TempDir(),
		RetryDelay: 10 * time.Millisecond,
		Timeout:    2 * time.Minute,
		Logger:     slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if c.wantClass == "" {
		if err != nil {
			t.Fatalf("Sync: %v", err)
		}
		if o := outcome(res, "refs/heads/main"); o.Outcome != mirror.Created {
			t.Errorf("main: %+v, want created", o)
		}
		return
	}
	if err == nil {
		t.Fatalf("Sync succeeded (%+v), want a %s error", res, c.wantClass)
	}
	t.Logf("error: %v", err)
	var fe *failure.Error
	if !errors.As(err, &fe) || fe.Class != c.wantClass {
		t.Errorf("class %q, want %q", failure.ClassOf(err), c.wantClass)
	}
	msg := err.Error()
	if !strings.Contains(msg, c.wantSide) || !strings.Contains(msg, c.wantSaid) {
		t.Errorf("error %q does not name the %s and %q", msg, c.wantSide, c.wantSaid)
	}
	if strings.Contains(msg, srcToken) || strings.Contains(msg, dstToken) || strings.Contains(logs.String(), srcToken) {
		t.Error("a token leaked into the error or the log")
	}
	if _, ok := f.Refs("ge", "proj")["refs/heads/main"]; ok {
		t.Error("the target got refs/heads/main from a hostile source")
	}
}

// reportPeak prints the process's peak resident set and the Go runtime's
// footprint for the parent to read.
func reportPeak() {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	hwm := "0"
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		if m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(b); m != nil {
			hwm = string(m[1])
		}
	}
	fmt.Printf("hostile-peak: vmhwm=%skB sys=%d heapsys=%d\n", hwm, ms.Sys, ms.HeapSys)
}
