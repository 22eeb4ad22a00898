-- Leases (store.Leases): a running sync's claim on its mirror, renewed
-- while it runs; when its replica dies the lease lapses and another
-- replica runs the sync again. Times come from the database's clock.
CREATE TABLE leases (
	key        text        PRIMARY KEY,
	holder     text        NOT NULL,
	job_id     bigint      NOT NULL,
	expires_at timestamptz NOT NULL
);

-- Request counters (store.Leases): how many times something was asked
-- for, so that a job on any replica can tell whether a request arrived
-- while it ran.
CREATE TABLE counters (
	key   text   PRIMARY KEY,
	value bigint NOT NULL
);
