package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The real App binary, for the tests that kill it: a process of its own,
// started with an environment, stopped with SIGTERM or SIGKILL.

// procReady bounds how long a started App may take to answer /readyz.
const procReady = 2 * time.Minute

// buildApp compiles the App into dir and returns the binary's path.
func buildApp(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "gitee-mirror-app")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/gitee-mirror/gitee-mirror/app").CombinedOutput()
	if err != nil {
		t.Fatalf("building the App: %v\n%s", err, out)
	}
	return bin
}

// freeAddr is a loopback address no one listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// appProc is one App process; start may be called again after it ended.
type appProc struct {
	t    *testing.T
	name string // for messages: "app", "replica 2"
	bin  string
	env  map[string]string // GITEE_MIRROR_* and the like
	logs *syncBuffer       // every start's output
	addr string            // host:port, the same across restarts
	base string

	cmd    *exec.Cmd
	exited chan error
}

// newProc prepares an App process listening on a fresh loopback port.
func newProc(t *testing.T, name, bin string, env map[string]string) *appProc {
	t.Helper()
	p := &appProc{t: t, name: name, bin: bin, env: env, logs: &syncBuffer{}, addr: freeAddr(t)}
	p.base = "http://" + p.addr
	t.Cleanup(p.kill)
	return p
}

// start runs the process and waits until /readyz answers 200.
func (p *appProc) start() {
	p.t.Helper()
	if p.cmd != nil {
		p.t.Fatalf("%s: started twice", p.name)
	}
	home := filepath.Join(p.t.TempDir(), "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		p.t.Fatal(err)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home}
	if d := os.Getenv("TMPDIR"); d != "" {
		env = append(env, "TMPDIR="+d)
	}
	for k, v := range p.env {
		if k != "GITEE_MIRROR_LISTEN_ADDR" {
			env = append(env, k+"="+v)
		}
	}
	sort.Strings(env)
	env = append(env, "GITEE_MIRROR_LISTEN_ADDR="+p.addr)
	cmd := exec.Command(p.bin)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, p.logs, p.logs
	fmt.Fprintf(p.logs, "=== %s: start\n", p.name)
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("%s: starting the App: %v", p.name, err)
	}
	p.cmd, p.exited = cmd, make(chan error, 1)
	go func(c *exec.Cmd, done chan<- error) { done <- c.Wait() }(cmd, p.exited)
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(procReady)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if resp, err := client.Get(p.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-p.exited:
			p.cmd = nil
			p.t.Fatalf("%s exited while starting: %v\n%s", p.name, err, p.logTail())
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s not ready after %s\n%s", p.name, procReady, p.logTail())
		}
	}
}

// kill sends SIGKILL, as the OOM killer or a lost machine does, and waits
// for the process to end. Nothing of it runs afterwards.
func (p *appProc) kill() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
	fmt.Fprintf(p.logs, "=== %s: killed\n", p.name)
	p.cmd = nil
}

// term sends SIGTERM and waits for the process to exit; an exit status
// other than 0 is an error.
func (p *appProc) term() error {
	if p.cmd == nil {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		p.cmd = nil
		fmt.Fprintf(p.logs, "=== %s: exited after SIGTERM: %v\n", p.name, err)
		return err
	case <-time.After(procReady):
		p.kill()
		return errors.New(p.name + " did not exit within " + procReady.String() + " of SIGTERM")
	}
}

// running reports whether the process runs.
func (p *appProc) running() bool { return p.cmd != nil }

// logTail is the end of the logs, for failure messages.
func (p *appProc) logTail() string {
	s := p.logs.String()
	if len(s) > 8000 {
		s = "…" + s[strings.IndexByte(s[len(s)-8000:], '\n')+len(s)-8000:]
	}
	return s
}
