-- A mirror is two sides and a direction (as SQLite's 0004_sides): side A
-- is the repository the App is installed on (GitHub), side B the other one
-- (Gitee); the direction names the source side: 'a-to-b' (was 'push'),
-- 'b-to-a' (was 'pull').
ALTER TABLE mirrors RENAME COLUMN github_owner TO a_owner;
ALTER TABLE mirrors RENAME COLUMN github_name TO a_name;
ALTER TABLE mirrors RENAME COLUMN gitee_owner TO b_owner;
ALTER TABLE mirrors RENAME COLUMN gitee_name TO b_name;
ALTER TABLE mirrors RENAME COLUMN gitee_hook_remote_id TO hook_remote_id;
ALTER TABLE mirrors ADD COLUMN a_site text NOT NULL DEFAULT 'github';
ALTER TABLE mirrors ADD COLUMN b_site text NOT NULL DEFAULT 'gitee';
UPDATE mirrors SET direction = CASE direction
	WHEN 'push' THEN 'a-to-b'
	WHEN 'pull' THEN 'b-to-a'
	ELSE direction END;
