package release

import (
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
)

// Outcome is what happened to one release or asset. The strings are part of
// the public contract (the Action's report, the App's history).
type Outcome string

// Outcomes of releases and assets.
const (
	Unchanged Outcome = "unchanged" // already identical on the target
	Created   Outcome = "created"   // release made, or asset uploaded where it was missing
	Updated   Outcome = "updated"   // release rewritten or given assets; asset replaced
	Skipped   Outcome = "skipped"   // not copied, for the reason given (tag missing, over the size limit)
	Failed    Outcome = "failed"    // could not be copied (see the class and message)
	Planned   Outcome = "planned"   // dry run: would be created or updated
)

// AssetResult is the outcome for one asset.
type AssetResult struct {
	Name     string        `json:"name"`
	Size     int64         `json:"size"`
	Outcome  Outcome       `json:"outcome"`
	Attempts int           `json:"attempts,omitempty"` // uploads tried
	Class    failure.Class `json:"error_class,omitempty"`
	Message  string        `json:"message,omitempty"` // for a person; never a secret
}

// OK reports whether the asset is where the rules want it, or was rightly
// left out.
func (a AssetResult) OK() bool { return a.Outcome != Failed }

// ReleaseResult is the outcome for one release and its assets.
type ReleaseResult struct {
	Tag        string        `json:"tag"`
	Name       string        `json:"name,omitempty"`
	Prerelease bool          `json:"prerelease,omitempty"`
	Outcome    Outcome       `json:"outcome"`
	Assets     []AssetResult `json:"assets,omitempty"`
	Class      failure.Class `json:"error_class,omitempty"`
	Message    string        `json:"message,omitempty"`
}

// OK reports whether the release and every asset of it are fine.
func (r ReleaseResult) OK() bool {
	if r.Outcome == Failed {
		return false
	}
	for _, a := range r.Assets {
		if !a.OK() {
			return false
		}
	}
	return true
}

// Changed reports whether the release was created or updated on the
// target (its text, or any asset).
func (r ReleaseResult) Changed() bool { return r.Outcome == Created || r.Outcome == Updated }

// Result is the outcome of mirroring the releases of one repository.
type Result struct {
	Releases []ReleaseResult `json:"releases"`
	// Drafts counts the source's draft releases, which are never copied.
	Drafts int `json:"drafts,omitempty"`
	// Kept counts releases found only on the target; they are left alone.
	Kept     int           `json:"kept,omitempty"`
	Uploaded int           `json:"uploaded"` // assets uploaded
	Bytes    int64         `json:"bytes"`    // bytes of those assets
	Duration time.Duration `json:"duration_ns"`
}

// Changed counts releases created or updated: the Action's output.
func (r *Result) Changed() int {
	if r == nil {
		return 0
	}
	n := 0
	for _, rel := range r.Releases {
		if rel.Changed() {
			n++
		}
	}
	return n
}

// OK reports whether every release and asset is fine (skips are fine).
func (r *Result) OK() bool {
	if r == nil {
		return true
	}
	for _, rel := range r.Releases {
		if !rel.OK() {
			return false
		}
	}
	return true
}

// Count returns how many releases have outcome o.
func (r *Result) Count(o Outcome) int {
	n := 0
	for _, rel := range r.Releases {
		if rel.Outcome == o {
			n++
		}
	}
	return n
}

// Assets returns how many assets have outcome o, over every release.
func (r *Result) Assets(o Outcome) int {
	n := 0
	for _, rel := range r.Releases {
		for _, a := range rel.Assets {
			if a.Outcome == o {
				n++
			}
		}
	}
	return n
}
