-- Initial schema. Times are unix nanoseconds (UTC), 0 meaning unset.
-- Booleans are 0/1. Lists are JSON arrays in TEXT. Secrets are secret.Box
-- ciphertexts (BLOB), bound by associated data to their row. No table is
-- named river_*: River's own migrations share this file.

CREATE TABLE installations (
	id           INTEGER PRIMARY KEY, -- GitHub's installation id
	account      TEXT    NOT NULL,
	account_type TEXT    NOT NULL,
	suspended    INTEGER NOT NULL DEFAULT 0,
	created_at   INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE mirrors (
	-- AUTOINCREMENT: an id is never reused, so a queued job for a deleted
	-- mirror cannot act on a newer one.
	id                   INTEGER PRIMARY KEY AUTOINCREMENT,
	installation_id      INTEGER NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
	github_repo_id       INTEGER NOT NULL,
	github_owner         TEXT    NOT NULL,
	github_name          TEXT    NOT NULL,
	gitee_owner          TEXT    NOT NULL,
	gitee_name           TEXT    NOT NULL,
	direction            TEXT    NOT NULL,
	branches             TEXT    NOT NULL DEFAULT '[]',
	tags                 TEXT    NOT NULL DEFAULT '[]',
	no_tags              INTEGER NOT NULL DEFAULT 0,
	force                INTEGER NOT NULL DEFAULT 0,
	prune                INTEGER NOT NULL DEFAULT 0,
	create_missing       INTEGER NOT NULL DEFAULT 0,
	visibility           TEXT    NOT NULL DEFAULT '',
	config_source        TEXT    NOT NULL DEFAULT '',
	config_sha           TEXT    NOT NULL DEFAULT '',
	hook_id              TEXT    NOT NULL UNIQUE,
	hook_secret          BLOB, -- sealed, associated data "mirror:<id>:hook-secret"; NULL: none
	gitee_hook_remote_id INTEGER NOT NULL DEFAULT 0,
	paused               INTEGER NOT NULL DEFAULT 0,
	paused_reason        TEXT    NOT NULL DEFAULT '',
	paused_by_failures   INTEGER NOT NULL DEFAULT 0, -- 1: a new push resumes it
	consecutive_failures INTEGER NOT NULL DEFAULT 0,
	status               TEXT    NOT NULL DEFAULT 'new', -- of the last sync; reads as "paused" while paused
	last_error           TEXT    NOT NULL DEFAULT '',
	last_error_class     TEXT    NOT NULL DEFAULT '',
	last_sync_at         INTEGER NOT NULL DEFAULT 0,
	request_seq          INTEGER NOT NULL DEFAULT 0,
	created_at           INTEGER NOT NULL,
	updated_at           INTEGER NOT NULL,
	UNIQUE (installation_id, github_repo_id, gitee_owner, gitee_name)
) STRICT;

CREATE INDEX mirrors_github_repo_id ON mirrors (github_repo_id);

CREATE TABLE sync_runs (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	mirror_id     INTEGER NOT NULL REFERENCES mirrors (id) ON DELETE CASCADE,
	run_trigger   TEXT    NOT NULL,
	started_at    INTEGER NOT NULL,
	finished_at   INTEGER NOT NULL DEFAULT 0,
	outcome       TEXT    NOT NULL,
	error_class   TEXT    NOT NULL DEFAULT '',
	error_message TEXT    NOT NULL DEFAULT '',
	refs          TEXT    NOT NULL DEFAULT '[]', -- JSON array of mirror.RefResult
	bytes         INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX sync_runs_mirror_started ON sync_runs (mirror_id, started_at DESC, id DESC);

CREATE TABLE ref_states (
	mirror_id INTEGER NOT NULL REFERENCES mirrors (id) ON DELETE CASCADE,
	ref       TEXT    NOT NULL,
	object_id TEXT    NOT NULL,
	PRIMARY KEY (mirror_id, ref)
) STRICT, WITHOUT ROWID;

CREATE TABLE deliveries (
	source      TEXT    NOT NULL,
	id          TEXT    NOT NULL,
	received_at INTEGER NOT NULL,
	PRIMARY KEY (source, id)
) STRICT, WITHOUT ROWID;

CREATE INDEX deliveries_received_at ON deliveries (received_at);

CREATE TABLE credentials (
	installation_id INTEGER NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
	mirror_id       INTEGER NOT NULL DEFAULT 0, -- 0: every mirror of the installation
	login           TEXT    NOT NULL DEFAULT '',
	token           BLOB    NOT NULL, -- sealed, associated data "credential:<installation>:<mirror>"
	updated_at      INTEGER NOT NULL,
	PRIMARY KEY (installation_id, mirror_id)
) STRICT, WITHOUT ROWID;

-- mirror_id 0 cannot reference mirrors, so a mirror's own credential goes
-- with it by trigger (which also fires for cascaded deletes).
CREATE TRIGGER mirrors_delete_credentials AFTER DELETE ON mirrors
BEGIN
	DELETE FROM credentials WHERE installation_id = OLD.installation_id AND mirror_id = OLD.id;
END;

CREATE TABLE settings (
	key        TEXT    PRIMARY KEY,
	value      TEXT    NOT NULL DEFAULT '', -- plain values only
	sealed     BLOB, -- secret values, associated data "setting:<key>"; NULL: not secret
	updated_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
