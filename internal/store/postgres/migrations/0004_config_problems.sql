-- Problems of a repository's .github/gitee-mirror.yml (store.ConfigProblems):
-- one row per repository whose file does not parse, until a valid one is
-- read. errors is a JSON list of store.ConfigError.
CREATE TABLE config_problems (
	github_repo_id  bigint      PRIMARY KEY,
	installation_id bigint      NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
	repo            text        NOT NULL,
	commit_sha      text        NOT NULL,
	errors          jsonb       NOT NULL,
	updated_at      timestamptz NOT NULL
);

CREATE INDEX config_problems_installation ON config_problems (installation_id);
