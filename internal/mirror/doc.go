// Package mirror is the sync core: it mirrors the branches and tags of one Git
// repository to another over smart HTTP, safely and without unpacking objects.
//
// A sync lists refs on both sides, stops if nothing in scope differs, plans
// per-ref actions with a pure function (see Plan), relays exactly the objects
// the target lacks (a thin pack from the source's upload-pack streamed into
// the target's receive-pack) and records each ref's outcome.
//
// It imports no HTTP framework, no GitHub App code and no database.
package mirror
