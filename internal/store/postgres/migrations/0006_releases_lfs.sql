-- A mirror may mirror its releases and its Git LFS objects too; a run
-- records what became of the releases beside its refs (as SQLite's
-- 0006_releases_lfs).
ALTER TABLE mirrors ADD COLUMN releases boolean NOT NULL DEFAULT false;
ALTER TABLE mirrors ADD COLUMN lfs text NOT NULL DEFAULT ''; -- mirror.LFSMode: '' off, 'copy', 'required'
ALTER TABLE sync_runs ADD COLUMN releases jsonb; -- release.Result; NULL when none ran
