-- How far a mirror's running sync has got (store.Progresses): one row per
-- mirror, written every few seconds by the replica running the sync and
-- cleared when it ends.
CREATE TABLE sync_progress (
	mirror_id  bigint      PRIMARY KEY REFERENCES mirrors (id) ON DELETE CASCADE,
	phase      text        NOT NULL,
	objects    bigint      NOT NULL,
	received   bigint      NOT NULL,
	sent       bigint      NOT NULL,
	remote     text        NOT NULL,
	started_at timestamptz NOT NULL,
	updated_at timestamptz NOT NULL
);
