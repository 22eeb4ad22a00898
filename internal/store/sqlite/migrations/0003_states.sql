-- One-time states (store.States): a sign-in's or a registration's state
-- between leaving for GitHub and coming back. Times are unix nanoseconds.
CREATE TABLE one_time_states (
	key        TEXT    PRIMARY KEY,
	value      BLOB    NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX one_time_states_expires_at ON one_time_states (expires_at);
