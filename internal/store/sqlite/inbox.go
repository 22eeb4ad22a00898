package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// Inbox is the SQLite store.Inbox. It lives in a database file of its own,
// on a connection of its own: the main database's single connection is
// shared with River's workers and the sync history, and a delivery's
// acknowledgement must not queue behind them. It is safe for concurrent
// use.
type Inbox struct {
	db        *sql.DB
	path      string
	now       func() time.Time
	closeOnce sync.Once
	closeErr  error
}

var _ store.Inbox = (*Inbox)(nil)

// InboxPath is the inbox file that belongs to the main database at
// dbPath: "data/gitee-mirror.db" → "data/gitee-mirror.inbox.db". An
// in-memory database gets an in-memory inbox.
func InboxPath(dbPath string) string {
	if dbPath == memory {
		return memory
	}
	return strings.TrimSuffix(dbPath, ".db") + ".inbox.db"
}

// OpenInbox opens (creating if needed) the inbox file at path, with the
// same file modes and connection settings as Open, and applies its schema
// migrations. WithClock sets the clock of ReceivedAt.
func OpenInbox(ctx context.Context, path string, opts ...Option) (*Inbox, error) {
	o := options{busyTimeout: 5 * time.Second, now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	db, err := openDB(ctx, path, o)
	if err != nil {
		return nil, err
	}
	in := &Inbox{db: db, path: path, now: o.now}
	if err := migrate(ctx, db, inboxMigrationFS, in.now); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("error opening webhook inbox %s: %w", path, err)
	}
	return in, nil
}

// Path is the inbox file's path.
func (in *Inbox) Path() string { return in.path }

// Accept implements store.Inbox.
func (in *Inbox) Accept(ctx context.Context, d *store.Delivery) (bool, error) {
	at := in.now().UTC()
	var seq int64
	err := in.db.QueryRowContext(ctx, `
		INSERT INTO deliveries (source, id, event, payload, received_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (source, id) DO NOTHING
		RETURNING seq`,
		d.Source, d.ID, d.Event, nonNil(d.Payload), nanos(at)).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("error recording %s delivery %q: %w", d.Source, d.ID, err)
	}
	d.Seq, d.ReceivedAt, d.Attempts, d.LastError = seq, at, 0, ""
	return true, nil
}

// nonNil keeps an empty payload apart from a handled one (NULL).
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// Pending implements store.Inbox.
func (in *Inbox) Pending(ctx context.Context, limit, maxAttempts int) ([]*store.Delivery, error) {
	rows, err := in.db.QueryContext(ctx, `
		SELECT seq, source, id, event, payload, received_at, attempts, last_error
		FROM deliveries WHERE handled_at = 0 AND attempts < ? ORDER BY seq LIMIT ?`,
		maxAttempts, limit)
	if err != nil {
		return nil, fmt.Errorf("error reading pending deliveries: %w", err)
	}
	defer rows.Close()
	var out []*store.Delivery
	for rows.Next() {
		d := &store.Delivery{}
		var at int64
		if err := rows.Scan(&d.Seq, &d.Source, &d.ID, &d.Event, &d.Payload, &at, &d.Attempts, &d.LastError); err != nil {
			return nil, fmt.Errorf("error reading pending deliveries: %w", err)
		}
		d.ReceivedAt = fromNanos(at)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("error reading pending deliveries: %w", err)
	}
	return out, nil
}

// Handled implements store.Inbox.
func (in *Inbox) Handled(ctx context.Context, seqs ...int64) error {
	if len(seqs) == 0 {
		return nil
	}
	args := make([]any, 0, len(seqs)+1)
	args = append(args, nanos(in.now().UTC()))
	for _, s := range seqs {
		args = append(args, s)
	}
	q := `UPDATE deliveries SET handled_at = ?, payload = NULL WHERE handled_at = 0 AND seq IN (?` +
		strings.Repeat(", ?", len(seqs)-1) + `)`
	if _, err := in.db.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("error marking %d deliveries handled: %w", len(seqs), err)
	}
	return nil
}

// Failed implements store.Inbox.
func (in *Inbox) Failed(ctx context.Context, seq int64, msg string) (int, error) {
	var n int
	err := in.db.QueryRowContext(ctx, `
		UPDATE deliveries SET attempts = attempts + 1, last_error = ? WHERE seq = ? RETURNING attempts`,
		msg, seq).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("error recording a failed attempt at delivery %d: %w", seq, noRows(err))
	}
	return n, nil
}

// Counts implements store.Inbox.
func (in *Inbox) Counts(ctx context.Context, maxAttempts int) (pending, givenUp int, err error) {
	err = in.db.QueryRowContext(ctx, `
		SELECT COALESCE(SUM(attempts < ?1), 0), COALESCE(SUM(attempts >= ?1), 0)
		FROM deliveries WHERE handled_at = 0`, maxAttempts).Scan(&pending, &givenUp)
	if err != nil {
		return 0, 0, fmt.Errorf("error counting pending deliveries: %w", err)
	}
	return pending, givenUp, nil
}

// Prune implements store.Inbox.
func (in *Inbox) Prune(ctx context.Context, before time.Time) error {
	if _, err := in.db.ExecContext(ctx, `DELETE FROM deliveries WHERE handled_at <> 0 AND received_at < ?`, nanos(before)); err != nil {
		return fmt.Errorf("error pruning handled deliveries: %w", err)
	}
	return nil
}

// Ping implements store.Inbox.
func (in *Inbox) Ping(ctx context.Context) error {
	var one int
	if err := in.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("error pinging webhook inbox: %w", err)
	}
	return nil
}

// Close implements store.Inbox; later calls return the first call's result.
func (in *Inbox) Close() error {
	in.closeOnce.Do(func() { in.closeErr = in.db.Close() })
	return in.closeErr
}
