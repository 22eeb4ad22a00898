package store

// DefaultKeepRuns is how many finished runs per mirror a store keeps by
// default: FinishRun drops older ones, so that history stays bounded
// however long the App runs.
const DefaultKeepRuns = 100

// NoOp reports whether the run is a reconcile that found every ref in sync:
// ok, nothing written, no bytes sent. FinishRun keeps one row for a streak
// of them (the newest), so that reconciling 10,000 mirrors every few
// minutes does not grow the history by 10,000 rows each round.
func (r *SyncRun) NoOp() bool {
	if r.Trigger != "reconcile" || r.Outcome != "ok" || r.Bytes != 0 || r.Releases.Changed() != 0 {
		return false
	}
	for _, ref := range r.Refs {
		if ref.Changed() {
			return false
		}
	}
	return true
}
