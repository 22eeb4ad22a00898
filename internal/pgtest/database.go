package pgtest

import (
	"context"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Database is an empty database of the shared cluster, made for one test
// and dropped when it ends.
type Database struct {
	c    *cluster
	name string
}

// New creates a fresh database for t, starting the cluster on first use.
// It skips t when the cluster cannot start, or fails it when CI is set.
func New(t TB) *Database {
	t.Helper()
	c, err := start()
	if err != nil {
		unavailable(t, err)
		return nil
	}
	d := &Database{c: c, name: dbName(t.Name())}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.admin(ctx, "CREATE DATABASE "+pgx.Identifier{d.name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: error creating database %s: %v", d.name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// FORCE ends the sessions a test left open.
		_ = c.admin(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{d.name}.Sanitize()+" WITH (FORCE)")
	})
	return d
}

// admin runs one statement in the cluster's "postgres" database.
func (c *cluster) admin(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, c.url("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// Name is the database's name.
func (d *Database) Name() string { return d.name }

// URL connects to the database over loopback TCP as the cluster's
// superuser, password included, TLS off (the cluster has no certificate).
func (d *Database) URL() string { return d.c.url(d.name) }

// URLWithoutPassword is URL less the password, for tests that hand the
// password over another way (a password file).
func (d *Database) URLWithoutPassword() string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(superuser),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(d.c.port)),
		Path:     "/" + d.name,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Password is the superuser's password, random per cluster.
func (d *Database) Password() string { return d.c.password }

// SocketURL connects over the cluster's unix socket (no password asked).
func (d *Database) SocketURL() string {
	q := url.Values{"host": {d.c.dir}, "port": {strconv.Itoa(d.c.port)}, "user": {superuser}}
	return "postgres:///" + d.name + "?" + q.Encode()
}
