package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// Inbox is the Postgres store.Inbox: the deliveries table of the store's
// database, on a pool of its own, so that an acknowledgement never waits
// for a connection that River's workers or the pages hold. It is safe for
// concurrent use, and by several replicas at once: Accept's unique
// (source, id) makes a redelivery to another replica a duplicate too.
//
// Accept commits in groups: acceptWorkers statements at a time, each
// inserting every delivery that waits when it starts (up to acceptBatch).
// A delivery that arrives while the inbox is idle is inserted alone, at
// once; under load the deliveries that queue up while a statement runs go
// in the next one together, one round trip and one commit for all.
type Inbox struct {
	pool      *pgxpool.Pool
	locks     *pgxpool.Pool // the forwarding lock's connection (LockForward)
	now       func() time.Time
	accepts   chan *acceptCall
	closeOnce sync.Once
	closed    chan struct{}
	workers   sync.WaitGroup
	stopped   chan struct{} // closed once the workers are done (Close)

	statements atomic.Int64 // Accept's INSERT statements so far (tests)
}

// Group commit of Accept.
const (
	// acceptWorkers is how many INSERT statements of one replica run at
	// once. Few: on the 2 cores of issue 13's benchmark, 1,000 deliveries
	// a second through one statement each (six at a time per replica)
	// kept Postgres busy with statements, not rows.
	acceptWorkers = 2
	// acceptBatch caps the deliveries of one statement.
	acceptBatch = 100
	// acceptTimeout bounds one statement; each Accept also gives up when
	// its own context ends (the delivery may be recorded nonetheless, and
	// its redelivery is then a duplicate).
	acceptTimeout = 10 * time.Second
)

// acceptCall is an Accept waiting for its statement.
type acceptCall struct {
	d    *store.Delivery
	at   time.Time
	done chan acceptResult // buffered: the worker never waits
}

type acceptResult struct {
	first bool
	seq   int64
	err   error
}

var _ store.Inbox = (*Inbox)(nil)

// OpenInbox connects to the database at url as Open does (migrating the
// schema if needed) and returns its webhook inbox. WithClock sets the clock
// of ReceivedAt.
func OpenInbox(ctx context.Context, url string, opts ...Option) (*Inbox, error) {
	pool, o, err := connect(ctx, url, append([]Option{WithMaxConns(inboxConns)}, opts...))
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
	in := &Inbox{pool: pool, locks: locks, now: o.now, accepts: make(chan *acceptCall, acceptBatch),
		closed: make(chan struct{}), stopped: make(chan struct{})}
	for range acceptWorkers {
		in.workers.Go(in.acceptLoop)
	}
	return in, nil
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

// Accept implements store.Inbox: the delivery goes into the next group
// statement (see Inbox).
func (in *Inbox) Accept(ctx context.Context, d *store.Delivery) (bool, error) {
	c := &acceptCall{d: d, at: in.now().UTC().Truncate(time.Microsecond), done: make(chan acceptResult, 1)}
	select {
	case in.accepts <- c:
	case <-in.closed:
		return false, fmt.Errorf("error recording %s delivery %q: the inbox is closed", d.Source, d.ID)
	case <-ctx.Done():
		return false, fmt.Errorf("error recording %s delivery %q: %w", d.Source, d.ID, ctx.Err())
	}
	var r acceptResult
	select {
	case r = <-c.done:
	case <-ctx.Done():
		return false, fmt.Errorf("error recording %s delivery %q: %w", d.Source, d.ID, ctx.Err())
	case <-in.stopped:
		// Closed while it waited: every call a worker took, or that
		// was queued when they stopped, is answered by now.
		select {
		case r = <-c.done:
		default:
			return false, fmt.Errorf("error recording %s delivery %q: the inbox is closed", d.Source, d.ID)
		}
	}
	if r.err != nil {
		return false, fmt.Errorf("error recording %s delivery %q: %w", d.Source, d.ID, r.err)
	}
	if r.first {
		d.Seq, d.ReceivedAt, d.Attempts, d.LastError = r.seq, c.at, 0, ""
	}
	return r.first, nil
}

// acceptLoop runs group statements until Close: it waits for one Accept,
// takes those queued behind it, and inserts them all.
func (in *Inbox) acceptLoop() {
	batch := make([]*acceptCall, 0, acceptBatch)
	for {
		select {
		case <-in.closed:
			return
		case c := <-in.accepts:
			batch = append(batch[:0], c)
		}
	more:
		for len(batch) < acceptBatch {
			select {
			case c := <-in.accepts:
				batch = append(batch, c)
			default:
				break more
			}
		}
		in.insert(batch)
	}
}

// acceptSQL inserts a group of deliveries, in their order; a delivery
// accepted before (here or by another replica) is left alone and not
// returned.
const acceptSQL = `
	INSERT INTO deliveries (source, id, event, payload, received_at)
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::timestamptz[])
	ON CONFLICT (source, id) DO NOTHING
	RETURNING seq, source, id`

// insert records a group of deliveries in one statement and answers each
// Accept: first with its seq, or a duplicate, or the statement's error.
func (in *Inbox) insert(batch []*acceptCall) {
	in.statements.Add(1)
	type key struct{ source, id string }
	n := len(batch)
	sources, ids, events := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
	payloads, ats := make([][]byte, 0, n), make([]time.Time, 0, n)
	owner := make(map[key]*acceptCall, n) // the first call of each delivery in the group
	for _, c := range batch {
		k := key{c.d.Source, c.d.ID}
		if _, dup := owner[k]; dup {
			continue // the same delivery twice at once: one is first
		}
		owner[k] = c
		payload := c.d.Payload
		if payload == nil {
			payload = []byte{} // empty, not handled (NULL)
		}
		sources, ids, events = append(sources, c.d.Source), append(ids, c.d.ID), append(events, c.d.Event)
		payloads, ats = append(payloads, payload), append(ats, c.at)
	}
	ctx, cancel := context.WithTimeout(context.Background(), acceptTimeout)
	defer cancel()
	seqs := make(map[*acceptCall]int64, n)
	rows, err := in.pool.Query(ctx, acceptSQL, sources, ids, events, payloads, ats)
	if err == nil {
		for rows.Next() {
			var seq int64
			var k key
			if err = rows.Scan(&seq, &k.source, &k.id); err != nil {
				break
			}
			seqs[owner[k]] = seq
		}
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
	}
	for _, c := range batch {
		if err != nil {
			c.done <- acceptResult{err: err}
			continue
		}
		seq, first := seqs[c]
		c.done <- acceptResult{first: first, seq: seq}
	}
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
	in.closeOnce.Do(func() {
		close(in.closed)
		in.workers.Wait() // a statement under way answers its Accepts
		for {
			select {
			case c := <-in.accepts:
				c.done <- acceptResult{err: errors.New("the inbox is closed")}
				continue
			default:
			}
			break
		}
		close(in.stopped)
		in.locks.Close()
		in.pool.Close()
	})
	return nil
}
