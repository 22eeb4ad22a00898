package release

import (
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// TagsFrom tells, from the result of the refs' sync, whether a tag is on
// the target as on the source, and if not why: a release is mirrored only
// onto the commit its source has.
func TagsFrom(res *mirror.Result) func(tag string) (ok bool, reason string) {
	byTag := map[string]mirror.RefResult{}
	if res != nil {
		for _, r := range res.Refs {
			if name, ok := strings.CutPrefix(r.Ref, "refs/tags/"); ok {
				byTag[name] = r
			}
		}
	}
	return func(tag string) (bool, string) {
		r, found := byTag[tag]
		if !found {
			return false, "its tag is not mirrored (left out by the tag filters, or missing on the source)"
		}
		switch r.Outcome {
		case mirror.Unchanged, mirror.Created, mirror.Updated, mirror.Forced:
			return true, ""
		case mirror.Diverged:
			return false, "its tag points at another commit on the target (diverged)"
		case mirror.Planned:
			return false, "dry run: its tag is not on the target yet"
		}
		why := "its tag was not mirrored (" + string(r.Outcome)
		if r.Message != "" {
			why += ": " + r.Message
		}
		return false, why + ")"
	}
}
