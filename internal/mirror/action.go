package mirror

// Action is what the plan decided for one ref.
type Action string

// Plan actions.
const (
	ActNone      Action = "none"      // in sync
	ActCreate    Action = "create"    // target lacks the ref
	ActUpdate    Action = "update"    // fast-forward
	ActOverwrite Action = "overwrite" // back up, then non-fast-forward update
	ActDelete    Action = "delete"    // prune (safe, or backed up with force)
	ActSkip      Action = "skip"      // diverged / unsafe / invalid: nothing written
)
