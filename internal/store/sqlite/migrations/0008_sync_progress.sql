-- How far a mirror's running sync has got (store.Progresses): one row per
-- mirror, written every few seconds by the replica running the sync and
-- cleared when it ends. Times are unix nanoseconds.
CREATE TABLE sync_progress (
	mirror_id  INTEGER PRIMARY KEY REFERENCES mirrors (id) ON DELETE CASCADE,
	phase      TEXT    NOT NULL,
	objects    INTEGER NOT NULL,
	received   INTEGER NOT NULL,
	sent       INTEGER NOT NULL,
	remote     TEXT    NOT NULL,
	started_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;
