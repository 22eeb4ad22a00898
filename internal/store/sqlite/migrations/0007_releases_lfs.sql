-- A mirror may mirror its releases and its Git LFS objects too; a run
-- records what became of the releases beside its refs.
ALTER TABLE mirrors ADD COLUMN releases INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mirrors ADD COLUMN lfs TEXT NOT NULL DEFAULT ''; -- mirror.LFSMode: '' off, 'copy', 'required'
ALTER TABLE sync_runs ADD COLUMN releases TEXT NOT NULL DEFAULT ''; -- JSON release.Result; '' when none ran
