-- One-time states (store.States): a sign-in's or a registration's state
-- between leaving for GitHub and coming back, taken by whichever replica
-- the return reaches.
CREATE TABLE one_time_states (
	key        text        PRIMARY KEY,
	value      bytea       NOT NULL,
	expires_at timestamptz NOT NULL
);

CREATE INDEX one_time_states_expires_at ON one_time_states (expires_at);
