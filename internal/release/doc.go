// Package release mirrors the releases of a repository and their assets
// from one site to another, after the refs have been mirrored.
//
// The rules: every published release of the source (drafts never) exists
// on the target, matched by tag name, with its name, notes and prerelease
// flag, rewritten when they changed on the source; every asset exists by
// file name with identical bytes (size, and the SHA-256 digest where a
// site gives one), and only what is missing or different is uploaded; a
// release found only on the target is never touched. A release whose tag
// is not on the target is skipped with the reason, an asset over the
// target's per-file limit is skipped and reported by name and size.
//
// Assets travel from the source's download straight into the target's
// upload, several at a time, with no copy held in memory or on disk; a
// failed asset is retried on its own and never fails the others.
package release
