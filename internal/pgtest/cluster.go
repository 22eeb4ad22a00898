// Package pgtest gives tests a real, throw-away PostgreSQL: one cluster per
// test binary, started on first use in a temporary directory (initdb, then
// the postgres server as a child of the test process, on a loopback port
// and a socket in that directory), and a fresh database per test.
//
// Nothing here touches the network beyond loopback, and nothing needs
// Docker: the server binaries come from Debian's postgresql package, found
// under /usr/lib/postgresql/<version>/bin (or on PATH). PostgreSQL refuses
// to run as root, so when the tests run as root the cluster runs as the
// "postgres" user (which that package creates), its directory handed over.
//
// PGTEST_BIN names another directory of server binaries; PGTEST_SETTINGS
// adds server settings, name=value separated by spaces (a benchmark loads
// pg_stat_statements with it).
//
// When the cluster cannot start, a test that asks for a database is skipped
// with the reason, unless the environment variable CI is set: then it
// fails, so that CI never passes by skipping the Postgres tests.
//
// A test binary that uses the package calls Main from its TestMain, so that
// the cluster stops when the tests end:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// superuser is the cluster's superuser, whatever OS user runs it.
const superuser = "pgtest"

// cluster is one running server.
type cluster struct {
	dir      string    // temporary directory: data, socket, log
	port     int       // loopback TCP port
	password string    // of superuser
	cmd      *exec.Cmd // the postmaster
	exited   chan struct{}
	waitErr  error
}

var (
	startOnce sync.Once
	shared    *cluster
	startErr  error
	dbSeq     struct {
		sync.Mutex
		n int
	}
)

// Main runs the tests of m and stops the cluster if one was started, then
// exits with the tests' code.
func Main(m interface{ Run() int }) {
	code := m.Run()
	if shared != nil {
		if err := shared.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		}
	}
	os.Exit(code)
}

// unavailable skips t, or fails it when CI is set, because the cluster
// could not start.
func unavailable(t TB, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("PostgreSQL test cluster could not start, and CI is set so the Postgres tests may not skip: %v", err)
	}
	t.Skipf("PostgreSQL test cluster unavailable (install Debian's postgresql package; CI fails here instead of skipping): %v", err)
}

// TB is the part of testing.TB the package needs.
type TB interface {
	Helper()
	Name() string
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	Cleanup(func())
	Context() context.Context
}

// start starts the shared cluster once per binary.
func start() (*cluster, error) {
	startOnce.Do(func() { shared, startErr = newCluster() })
	return shared, startErr
}

// bindir finds the directory of initdb and postgres: $PGTEST_BIN when set,
// else the newest /usr/lib/postgresql/<version>/bin, else PATH.
func bindir() (string, error) {
	if d := os.Getenv("PGTEST_BIN"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err != nil {
			return "", fmt.Errorf("PGTEST_BIN=%s: no initdb there: %w", d, err)
		}
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("no initdb under /usr/lib/postgresql/*/bin nor on PATH")
}

// version is the major version in /usr/lib/postgresql/<version>/bin.
func version(dir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return v
}

// runAs is who runs the cluster: nil for the current user, or the
// "postgres" user's credentials when the tests run as root.
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, and PostgreSQL refuses root: no \"postgres\" user to run it as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// command builds a command of the cluster's binaries, run as cred.
func command(bin, name string, cred *syscall.Credential, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(bin, name), args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
	// Dying with the test binary: a killed test run leaves no server
	// behind. SIGQUIT is PostgreSQL's immediate shutdown.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT, Setpgid: true}
	return cmd
}

func newCluster() (*cluster, error) {
	bin, err := bindir()
	if err != nil {
		return nil, err
	}
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, fmt.Errorf("error creating the cluster directory: %w", err)
	}
	c := &cluster{dir: dir, password: randomHex(16), exited: make(chan struct{})}
	if err := c.init(bin, cred); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := c.run(bin, cred); err != nil {
		_ = c.stop()
		return nil, err
	}
	return c, nil
}

// init makes the data directory with initdb.
func (c *cluster) init(bin string, cred *syscall.Credential) error {
	pwfile := filepath.Join(c.dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(c.password+"\n"), 0o600); err != nil {
		return fmt.Errorf("error writing the password file: %w", err)
	}
	if cred != nil {
		if err := chownTree(c.dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return err
		}
	}
	cmd := command(bin, "initdb", cred,
		"-D", filepath.Join(c.dir, "data"), "-U", superuser, "--pwfile", pwfile,
		"--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

// chownTree hands dir and everything in it to uid:gid.
func chownTree(dir string, uid, gid int) error {
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if err := os.Lchown(p, uid, gid); err != nil {
			return fmt.Errorf("error handing %s to the postgres user: %w", p, err)
		}
		return nil
	})
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// run starts the server and waits until it accepts connections.
func (c *cluster) run(bin string, cred *syscall.Credential) error {
	port, err := freePort()
	if err != nil {
		return fmt.Errorf("error finding a free port: %w", err)
	}
	c.port = port
	logf, err := os.Create(filepath.Join(c.dir, "server.log"))
	if err != nil {
		return fmt.Errorf("error creating the server log: %w", err)
	}
	defer logf.Close()
	// Durability is not wanted from a throw-away cluster; speed is.
	c.cmd = command(bin, "postgres", cred,
		"-D", filepath.Join(c.dir, "data"),
		"-c", "listen_addresses=127.0.0.1", "-p", strconv.Itoa(port),
		"-c", "unix_socket_directories="+c.dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=400", "-c", "shared_buffers=64MB")
	for _, kv := range strings.Fields(os.Getenv("PGTEST_SETTINGS")) {
		c.cmd.Args = append(c.cmd.Args, "-c", kv)
	}
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	if err := c.cmd.Start(); err != nil {
		return fmt.Errorf("error starting postgres: %w", err)
	}
	go func() { c.waitErr = c.cmd.Wait(); close(c.exited) }()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		conn, err := pgx.Connect(ctx, c.url("postgres"))
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-c.exited:
			return fmt.Errorf("postgres exited (%v): %s", c.waitErr, c.logTail())
		case <-ctx.Done():
			return fmt.Errorf("postgres did not accept connections within a minute: %w: %s", err, c.logTail())
		case <-tick.C:
		}
	}
}

// logTail is the end of the server log, for an error.
func (c *cluster) logTail() string {
	b, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(bytes.TrimSpace(b))
}

// stop shuts the server down (fast: open sessions are ended) and removes
// its directory.
func (c *cluster) stop() error {
	var err error
	if c.cmd != nil && c.cmd.Process != nil {
		_ = c.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-c.exited:
		case <-time.After(30 * time.Second):
			_ = c.cmd.Process.Kill()
			<-c.exited
			err = errors.New("postgres did not stop within 30s; killed")
		}
	}
	if rmErr := os.RemoveAll(c.dir); rmErr != nil && err == nil {
		err = fmt.Errorf("error removing the cluster directory: %w", rmErr)
	}
	return err
}

// url is the connection URL of database db, as the superuser over TCP.
func (c *cluster) url(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(superuser, c.password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// dbName makes a database name from the test's name and a sequence
// number: lower case, at most 63 bytes, unique in the binary.
func dbName(testName string) string {
	dbSeq.Lock()
	dbSeq.n++
	n := dbSeq.n
	dbSeq.Unlock()
	var b strings.Builder
	for _, r := range strings.ToLower(testName) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	name := b.String()
	suffix := "_" + strconv.Itoa(n)
	if max := 63 - len("t_") - len(suffix); len(name) > max {
		name = name[len(name)-max:]
	}
	return "t_" + name + suffix
}
