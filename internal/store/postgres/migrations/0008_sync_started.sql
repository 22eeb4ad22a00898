-- When the mirror's latest sync started (store.Mirror.SyncStartedAt, set
-- with the syncing status): the next sync of the mirror, on any replica,
-- starts no sooner than the sync spacing after it.
ALTER TABLE mirrors ADD COLUMN sync_started_at timestamptz;
