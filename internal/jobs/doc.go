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
// the job snoozes for zero seconds and syncs again at once; if not, it marks
// itself completed in the database while still holding the lock, so a later
// hint finds no live job and inserts a new one. A push during a running sync
// therefore lands without waiting for the reconcile.
//
// The lock is in-process: this works for the App's single-process SQLite
// deployment. Several replicas (Postgres) will need the check and the
// completion in one database transaction with the store's counter.
package jobs
