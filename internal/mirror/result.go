package mirror

import (
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
)

// Outcome is what happened to one ref. The strings are part of the public
// contract (Action report, App history).
type Outcome string

// Outcomes of a ref.
const (
	Unchanged Outcome = "unchanged" // already in sync
	Created   Outcome = "created"
	Updated   Outcome = "updated"     // fast-forward
	Forced    Outcome = "overwritten" // non-fast-forward, after a backup
	Deleted   Outcome = "deleted"
	Diverged  Outcome = "diverged" // skipped: target moved away; nothing written
	Kept      Outcome = "kept"     // target-only ref kept (no prune, or pruning would lose commits)
	Rejected  Outcome = "rejected" // the target refused it (hook, permission, quota)
	Failed    Outcome = "failed"   // could not be synced (see Error)
	Skipped   Outcome = "skipped"  // invalid name from the remote, never passed on
	Planned   Outcome = "planned"  // dry run: would change (Action says what)
	Conflict  Outcome = "conflict" // two-way: changed on both sides since the last sync; nothing written
)

// RefResult is the outcome for one ref.
type RefResult struct {
	Ref     string        `json:"ref"`              // full name, e.g. refs/heads/main
	Action  Action        `json:"action"`           // what the plan decided
	Outcome Outcome       `json:"outcome"`          // what happened
	Source  string        `json:"source,omitempty"` // source object id, "" if absent
	Target  string        `json:"target,omitempty"` // target object id before the sync, "" if absent
	Backup  string        `json:"backup,omitempty"` // backup ref holding the old target tip
	Class   failure.Class `json:"error_class,omitempty"`
	Message string        `json:"message,omitempty"` // for a person; never a secret

	// Side is the side a two-way sync wrote or would write ("source" or
	// "target"), with Backup on that side; empty in one-way syncs, which only
	// write the target, and for refs left alone.
	Side Side `json:"side,omitempty"`

	// LFSMissing counts the LFS objects this ref's new commits point to
	// that are not on the side it was written to (see Result.LFS).
	LFSMissing int `json:"lfs_missing,omitempty"`
}

// Changed reports whether the ref was written (on the target, or in a
// two-way sync on the side Side names).
func (r RefResult) Changed() bool {
	switch r.Outcome {
	case Created, Updated, Forced, Deleted:
		return true
	}
	return false
}

// OK reports whether the ref is in the state the policy asks for.
func (r RefResult) OK() bool {
	switch r.Outcome {
	case Unchanged, Created, Updated, Forced, Deleted, Kept, Planned:
		return true
	}
	return false
}

// Result is the outcome of one sync.
type Result struct {
	Refs     []RefResult   `json:"refs"`
	Backups  []string      `json:"backups,omitempty"` // backup refs created on the target
	NoOp     bool          `json:"noop"`              // nothing differed; no objects moved
	Bytes    int64         `json:"bytes"`             // pack bytes relayed to the target
	Attempts int           `json:"attempts"`
	Duration time.Duration `json:"duration_ns"`

	// SourceEmpty is set when Options.CreateTarget was given and the source
	// had no branch or tag at all: the target was neither created nor
	// contacted, and Refs is empty.
	SourceEmpty bool `json:"source_empty,omitempty"`

	// SourceBackups are the backup refs a two-way sync created on the
	// source (Backups are on the target).
	SourceBackups []string `json:"source_backups,omitempty"`

	// LFS is what became of the Git LFS objects (Options.LFS); nil when
	// LFS is off or the new commits point to none.
	LFS *LFSReport `json:"lfs,omitempty"`
}

// Conflicts returns the refs in conflict (two-way syncs only).
func (r *Result) Conflicts() []RefResult {
	var out []RefResult
	for _, ref := range r.Refs {
		if ref.Outcome == Conflict {
			out = append(out, ref)
		}
	}
	return out
}

// Count returns how many refs have outcome o.
func (r *Result) Count(o Outcome) int {
	n := 0
	for _, ref := range r.Refs {
		if ref.Outcome == o {
			n++
		}
	}
	return n
}

// Changed returns the refs that were written.
func (r *Result) Changed() []RefResult {
	var out []RefResult
	for _, ref := range r.Refs {
		if ref.Changed() {
			out = append(out, ref)
		}
	}
	return out
}

// OK reports whether every ref is in sync or deliberately kept, and every
// LFS object the sync found is in place (a mirror missing some is
// incomplete, as one with a diverged ref is).
func (r *Result) OK() bool {
	for _, ref := range r.Refs {
		if !ref.OK() {
			return false
		}
	}
	return r.LFS.Complete()
}
