package validate

import "strings"

// Mirror settings that constrain each other or take a word of their own,
// checked the same way for the settings file and the settings page.

// The lfs setting's modes, as the sync core names them
// (mirror.LFSMode): "" (off), "copy", "required".
const (
	LFSOff      = ""
	LFSCopy     = "copy"
	LFSRequired = "required"
)

// Force checks force against the direction: a two-way mirror never
// overwrites, since force would have to choose which side's commits are
// thrown away.
func Force(twoWay, force bool) error {
	if twoWay && force {
		return &Error{What: "force", Reason: "cannot be used with direction both: a ref changed on both sides is a conflict " +
			"that a person resolves (the mirror's page and check run say how), never overwritten; turn force off, or choose push or pull"}
	}
	return nil
}

// LFS reads the lfs setting as people write it: true (copy the Git LFS
// objects; a ref is updated even when some could not be copied, and
// reported), false (pointer files only) or required (a ref whose objects
// could not all be copied is not updated). It returns LFSOff, LFSCopy or
// LFSRequired.
func LFS(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "false", "off", "":
		return LFSOff, nil
	case "true", "on", "copy":
		return LFSCopy, nil
	case "required":
		return LFSRequired, nil
	}
	return "", fail("lfs", s, "want true (copy the Git LFS objects), false (pointer files only) or required (copy them, and hold back a ref whose objects could not all be copied)")
}
