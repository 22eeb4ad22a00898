// Package lfs copies Git LFS objects from one repository to another through
// the Git LFS batch API (basic transfer), the way git-lfs does between a
// workstation and a server, but without a local object store: each object
// streams from the source's storage into the target's, verified by size and
// sha256 on the way, so memory does not grow with object size.
//
// It also parses LFS pointer files, the small blobs that Git stores in place
// of the objects, so that the sync core can find the objects a push needs.
package lfs
