-- When the mirror's latest sync started (store.Mirror.SyncStartedAt, set
-- with the syncing status; unix nanoseconds, 0 for never): the next sync
-- of the mirror starts no sooner than the sync spacing after it.
ALTER TABLE mirrors ADD COLUMN sync_started_at INTEGER NOT NULL DEFAULT 0;
