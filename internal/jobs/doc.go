// Package jobs runs the App's background work on River, in the same SQLite
// database as the store: one sync job per mirror at a time, a periodic
// reconcile that catches missed webhooks, and re-reading a repository's
// .github/gitee-mirror.yml.
//
// Webhooks are hints. A hint that arrives while its mirror's sync runs is
// dropped by River's unique insert (unique jobs count the running state), so
// every hint is also recorded as a bump of the mirror's RequestSeq. A sync
// job notes RequestSeq before it syncs and, before it completes, looks again
// under a per-mirror lock that RequestSync also holds: if the sequence moved,
// the job snoozes and syncs again, no sooner than Config.SyncSpacing after
// it started (at once if that has passed); if not, it marks itself
// completed in the database while still holding the lock, so a later hint
// finds no live job and inserts a new one, which runs at once unless the
// mirror's last sync started less than a spacing ago (Mirror.SyncStartedAt,
// in the store): then it snoozes for the rest of it. A push during a
// running sync therefore lands without waiting for the reconcile, and a
// storm of pushes to one mirror costs a sync a spacing: the hints that
// arrive while a job waits join it, and a push does not bring it forward
// (bringForward), as it does a retry's backoff.
//
// The lock is the database's (store.JobDB.LockKey: an advisory lock on
// Postgres, which every replica sees). A running sync also holds a lease on
// its mirror in the store, renewed every few seconds (lease.go): when its
// process dies the lease lapses, and a sweeper on any live process
// (sweep.go) replaces the job left running with a fresh one, so the mirror
// is synced again within a lease's lifetime instead of after River's
// stuck-job rescue. Config re-read requests are counted in the database
// too, so that a request made on one replica is seen by a job on another.
package jobs
