-- Leases (store.Leases): a running sync's claim on its mirror, renewed
-- while it runs; when its process dies the lease lapses and the sync is
-- run again. Times are unix nanoseconds.
CREATE TABLE leases (
	key        TEXT    PRIMARY KEY,
	holder     TEXT    NOT NULL,
	job_id     INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Request counters (store.Leases): how many times something was asked
-- for, so that a job can tell whether a request arrived while it ran.
CREATE TABLE counters (
	key   TEXT    PRIMARY KEY,
	value INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
