-- Problems of a repository's .github/gitee-mirror.yml (store.ConfigProblems):
-- one row per repository whose file does not parse, until a valid one is
-- read. errors is a JSON list of store.ConfigError; times are unix
-- nanoseconds.
CREATE TABLE config_problems (
	github_repo_id  INTEGER PRIMARY KEY,
	installation_id INTEGER NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
	repo            TEXT    NOT NULL,
	commit_sha      TEXT    NOT NULL,
	errors          TEXT    NOT NULL,
	updated_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX config_problems_installation ON config_problems (installation_id);
