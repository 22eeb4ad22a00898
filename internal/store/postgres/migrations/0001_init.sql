-- The store and the webhook inbox in one database, beside River's river_*
-- tables. Lists are JSON arrays; secrets are secret.Box ciphertexts (bytea)
-- bound by associated data to their row; a zero time is NULL.

CREATE TABLE installations (
	id           bigint      PRIMARY KEY, -- GitHub's installation id
	account      text        NOT NULL,
	account_type text        NOT NULL,
	suspended    boolean     NOT NULL DEFAULT false,
	created_at   timestamptz NOT NULL,
	updated_at   timestamptz NOT NULL
);

CREATE TABLE mirrors (
	-- An identity never reuses an id, so a queued job for a deleted mirror
	-- cannot act on a newer one.
	id                   bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	installation_id      bigint      NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
	github_repo_id       bigint      NOT NULL,
	github_owner         text        NOT NULL,
	github_name          text        NOT NULL,
	gitee_owner          text        NOT NULL,
	gitee_name           text        NOT NULL,
	direction            text        NOT NULL,
	branches             jsonb       NOT NULL DEFAULT '[]',
	tags                 jsonb       NOT NULL DEFAULT '[]',
	no_tags              boolean     NOT NULL DEFAULT false,
	force                boolean     NOT NULL DEFAULT false,
	prune                boolean     NOT NULL DEFAULT false,
	create_missing       boolean     NOT NULL DEFAULT false,
	visibility           text        NOT NULL DEFAULT '',
	config_source        text        NOT NULL DEFAULT '',
	config_sha           text        NOT NULL DEFAULT '',
	hook_id              text        NOT NULL UNIQUE,
	hook_secret          bytea, -- sealed, associated data "mirror:<id>:hook-secret"; NULL: none
	gitee_hook_remote_id bigint      NOT NULL DEFAULT 0,
	paused               boolean     NOT NULL DEFAULT false,
	paused_reason        text        NOT NULL DEFAULT '',
	paused_by_failures   boolean     NOT NULL DEFAULT false, -- true: a new push resumes it
	consecutive_failures integer     NOT NULL DEFAULT 0,
	status               text        NOT NULL DEFAULT 'new', -- of the last sync; reads as "paused" while paused
	last_error           text        NOT NULL DEFAULT '',
	last_error_class     text        NOT NULL DEFAULT '',
	last_sync_at         timestamptz,
	request_seq          bigint      NOT NULL DEFAULT 0,
	created_at           timestamptz NOT NULL,
	updated_at           timestamptz NOT NULL,
	UNIQUE (installation_id, github_repo_id, gitee_owner, gitee_name)
);

-- The UNIQUE constraint serves lookups by installation; this one by
-- repository (renames, push deliveries).
CREATE INDEX mirrors_github_repo_id ON mirrors (github_repo_id);

CREATE TABLE sync_runs (
	id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	mirror_id     bigint      NOT NULL REFERENCES mirrors (id) ON DELETE CASCADE,
	run_trigger   text        NOT NULL,
	started_at    timestamptz NOT NULL,
	finished_at   timestamptz,
	outcome       text        NOT NULL,
	error_class   text        NOT NULL DEFAULT '',
	error_message text        NOT NULL DEFAULT '',
	refs          jsonb       NOT NULL DEFAULT '[]', -- mirror.RefResult
	bytes         bigint      NOT NULL DEFAULT 0
);

CREATE INDEX sync_runs_mirror_started ON sync_runs (mirror_id, started_at DESC, id DESC);

CREATE TABLE ref_states (
	mirror_id bigint NOT NULL REFERENCES mirrors (id) ON DELETE CASCADE,
	ref       text   NOT NULL,
	object_id text   NOT NULL,
	PRIMARY KEY (mirror_id, ref)
);

CREATE TABLE credentials (
	installation_id bigint      NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
	mirror_id       bigint      NOT NULL DEFAULT 0, -- 0: every mirror of the installation
	login           text        NOT NULL DEFAULT '',
	token           bytea       NOT NULL, -- sealed, associated data "credential:<installation>:<mirror>"
	updated_at      timestamptz NOT NULL,
	PRIMARY KEY (installation_id, mirror_id)
);

-- mirror_id 0 cannot reference mirrors, so a mirror's own credential goes
-- with it by trigger (which also fires for cascaded deletes).
CREATE FUNCTION mirrors_delete_credentials() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM credentials WHERE installation_id = OLD.installation_id AND mirror_id = OLD.id;
	RETURN OLD;
END;
$$;

CREATE TRIGGER mirrors_delete_credentials AFTER DELETE ON mirrors
	FOR EACH ROW EXECUTE FUNCTION mirrors_delete_credentials();

CREATE TABLE settings (
	key        text        PRIMARY KEY,
	value      text        NOT NULL DEFAULT '', -- plain values only
	sealed     bytea, -- secret values, associated data "setting:<key>"; NULL: not secret
	updated_at timestamptz NOT NULL
);

-- The webhook inbox (store.Inbox): one row per accepted delivery. payload
-- is NULL once handled; the row stays until pruned so that a redelivery is
-- known.
CREATE TABLE deliveries (
	seq         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	source      text        NOT NULL,
	id          text        NOT NULL,
	event       text        NOT NULL,
	payload     bytea,
	received_at timestamptz NOT NULL,
	handled_at  timestamptz,
	attempts    integer     NOT NULL DEFAULT 0,
	last_error  text        NOT NULL DEFAULT '',
	UNIQUE (source, id)
);

CREATE INDEX deliveries_pending ON deliveries (seq) WHERE handled_at IS NULL;
CREATE INDEX deliveries_handled ON deliveries (received_at) WHERE handled_at IS NOT NULL;
