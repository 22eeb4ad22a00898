package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// Inbox is the Postgres store.Inbox: the deliveries table of the store's
// database, on a pool of its own, so that an acknowledgement never waits
// for a connection that River's workers or the pages hold. It is safe for
// concurrent use, and by several replicas at once: Accept's unique
// (source, id) makes a redelivery to another replica a duplicate too.
type Inbox struct {
	pool      *pgxpool.Pool
	locks     *pgxpool.Pool // the forwarding lock's connection (LockForward)
	now       func() time.Time
	closeOnce sync.Once
	closed    chan struct{}
}

var _ store.Inbox = (*Inbox)(nil)

// OpenInbox connects to the database at url as Open does (migrating the
// schema if needed) and returns its webhook inbox. WithClock sets the clock
// of ReceivedAt.
func OpenInbox(ctx context.Context, url string, opts ...Option) (*Inbox, error) {
	// Every connection of the inbox's pool is kept open: a burst of
	// deliveries after a quiet spell (a restart, the start of issue 13's
	// benchmark) otherwise waits for new connections, each a fork and a
	// SCRAM exchange on the database server, and the acknowledgements of
	// the first seconds took several times longer than the rest's.
	pool, o, err := connect(ctx, url, append([]Option{WithMaxConns(inboxConns), func(o *options) { o.minConns = inboxConns }}, opts...))
	if err != nil {
		return nil, fmt.Errorf("error opening webhook inbox: %w", err)
	}
	lc := pool.Config().Copy()
	lc.MaxConns, lc.MinConns = 1, 0 // one forwarder per process
	locks, err := pgxpool.NewWithConfig(ctx, lc)
	if err != nil {
		pool.Close()
		return nil, errors.New("error opening webhook inbox: error opening its lock connection")
	}
	return &Inbox{pool: pool, locks: locks, now: o.now, closed: make(chan struct{})}, nil
}

var _ store.ForwardLocker = (*Inbox)(nil)

// forwardKey is the advisory lock the replicas' forwarders take turns on.
const forwardKey = "inbox:forward"

// LockForward implements store.ForwardLocker: an advisory lock, on a
// connection of its own so that it never takes one an acknowledgement
// needs; a replica that dies releases it with its connection.
func (in *Inbox) LockForward(ctx context.Context) (func(), error) {
	unlock, err := advisoryLock(ctx, in.locks, forwardKey)
	if err != nil {
		return nil, fmt.Errorf("error waiting for the webhook inbox's forwarding lock: %w", err)
	}
	return unlock, nil
}

// Accept implements store.Inbox.
func (in *Inbox) Accept(ctx context.Context, d *store.Delivery) (bool, error) {
	at := in.now().UTC().Truncate(time.Microsecond)
	payload := d.Payload
	if payload == nil {
		payload = []byte{} // empty, not handled (NULL)
	}
	var seq int64
	err := in.pool.QueryRow(ctx, `
		INSERT INTO deliveries (source, id, event, payload, received_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (source, id) DO NOTHING
		RETURNING seq`,
		d.Source, d.ID, d.Event, payload, at).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("error recording %s delivery %q: %w", d.Source, d.ID, err)
	}
	d.Seq, d.ReceivedAt, d.Attempts, d.LastError = seq, at, 0, ""
	return true, nil
}

// The forwarder's statements, a batch (up to webhook.DefaultBatch, 1,000)
// at a time: by the deliveries_pending index and the primary key, never
// through the table of handled deliveries (TestInboxBatchStatementsUseIndexes).
const (
	pendingSQL = `
		SELECT seq, source, id, event, payload, received_at, attempts, last_error
		FROM deliveries WHERE handled_at IS NULL AND attempts < $1 ORDER BY seq LIMIT $2`
	handledSQL = `
		UPDATE deliveries SET handled_at = $1, payload = NULL
		WHERE handled_at IS NULL AND seq = ANY($2)`
)

// Pending implements store.Inbox.
func (in *Inbox) Pending(ctx context.Context, limit, maxAttempts int) ([]*store.Delivery, error) {
	rows, err := in.pool.Query(ctx, pendingSQL, maxAttempts, limit)
	if err != nil {
		return nil, fmt.Errorf("error reading pending deliveries: %w", err)
	}
	defer rows.Close()
	var out []*store.Delivery
	for rows.Next() {
		d := &store.Delivery{}
		if err := rows.Scan(&d.Seq, &d.Source, &d.ID, &d.Event, &d.Payload, &d.ReceivedAt, &d.Attempts, &d.LastError); err != nil {
			return nil, fmt.Errorf("error reading pending deliveries: %w", err)
		}
		d.ReceivedAt = d.ReceivedAt.UTC()
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
	if _, err := in.pool.Exec(ctx, handledSQL, in.now().UTC(), seqs); err != nil {
		return fmt.Errorf("error marking %d deliveries handled: %w", len(seqs), err)
	}
	return nil
}

// Failed implements store.Inbox.
func (in *Inbox) Failed(ctx context.Context, seq int64, msg string) (int, error) {
	var n int
	err := in.pool.QueryRow(ctx, `
		UPDATE deliveries SET attempts = attempts + 1, last_error = $1 WHERE seq = $2 RETURNING attempts`,
		msg, seq).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("error recording a failed attempt at delivery %d: %w", seq, noRows(err))
	}
	return n, nil
}

// Counts implements store.Inbox.
func (in *Inbox) Counts(ctx context.Context, maxAttempts int) (pending, givenUp int, err error) {
	err = in.pool.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE attempts < $1), count(*) FILTER (WHERE attempts >= $1)
		FROM deliveries WHERE handled_at IS NULL`, maxAttempts).Scan(&pending, &givenUp)
	if err != nil {
		return 0, 0, fmt.Errorf("error counting pending deliveries: %w", err)
	}
	return pending, givenUp, nil
}

// Prune implements store.Inbox.
func (in *Inbox) Prune(ctx context.Context, before time.Time) error {
	if _, err := in.pool.Exec(ctx,
		`DELETE FROM deliveries WHERE handled_at IS NOT NULL AND received_at < $1`, before.UTC()); err != nil {
		return fmt.Errorf("error pruning handled deliveries: %w", err)
	}
	return nil
}

// Ping implements store.Inbox.
func (in *Inbox) Ping(ctx context.Context) error {
	select {
	case <-in.closed:
		return errors.New("error pinging webhook inbox: closed")
	default:
	}
	if err := ping(ctx, in.pool); err != nil {
		return fmt.Errorf("error pinging webhook inbox: %w", err)
	}
	return nil
}

// Close implements store.Inbox; later calls do nothing.
func (in *Inbox) Close() error {
	in.closeOnce.Do(func() { close(in.closed); in.locks.Close(); in.pool.Close() })
	return nil
}
