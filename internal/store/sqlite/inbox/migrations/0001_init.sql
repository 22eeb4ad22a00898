-- The webhook inbox (store.Inbox): one row per accepted delivery. Times are
-- unix nanoseconds (UTC), 0 meaning unset. payload is NULL once handled;
-- the row stays until pruned so that a redelivery is known.
CREATE TABLE deliveries (
	seq         INTEGER PRIMARY KEY AUTOINCREMENT,
	source      TEXT    NOT NULL,
	id          TEXT    NOT NULL,
	event       TEXT    NOT NULL,
	payload     BLOB,
	received_at INTEGER NOT NULL,
	handled_at  INTEGER NOT NULL DEFAULT 0,
	attempts    INTEGER NOT NULL DEFAULT 0,
	last_error  TEXT    NOT NULL DEFAULT '',
	UNIQUE (source, id)
) STRICT;

CREATE INDEX deliveries_pending ON deliveries (seq) WHERE handled_at = 0;
CREATE INDEX deliveries_handled ON deliveries (received_at) WHERE handled_at <> 0;
