package actioncmd

import (
	"fmt"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// The lfs input and the lfs-objects output (action.yml).
const (
	inLFS         = "lfs"
	outLFSObjects = "lfs-objects"
	defaultLFS    = "false"
)

// parseLFS reads the lfs input: false (pointer files only), true (copy the
// objects; refs are updated even if some could not be copied) or required
// (a ref whose objects could not all be copied is not updated).
func parseLFS(get func(string) string) (mirror.LFSMode, error) {
	v := strings.ToLower(strings.TrimSpace(or(get(inLFS), defaultLFS)))
	m, err := mirror.ParseLFSMode(v)
	if err != nil {
		return m, inputErrorf(inLFS, "must be true, false or required, not %q", v)
	}
	return m, nil
}

// lfsUploaded is the lfs-objects output: LFS objects uploaded.
func lfsUploaded(res *mirror.Result) int {
	if res == nil || res.LFS == nil {
		return 0
	}
	return res.LFS.Uploaded
}

// lfsComplete reports whether res (maybe nil) has every LFS object in place.
func lfsComplete(res *mirror.Result) bool { return res == nil || res.LFS.Complete() }

// redactLFS returns a copy of l with its messages redacted.
func redactLFS(l *mirror.LFSReport, red *redactor) *mirror.LFSReport {
	if l == nil {
		return nil
	}
	c := *l
	c.Reason = red.String(c.Reason)
	c.Failed = append(c.Failed[:0:0], l.Failed...)
	for i := range c.Failed {
		c.Failed[i].Message = red.String(c.Failed[i].Message)
	}
	return &c
}

// lfsLine is the LFS tally for the console and the summary; "" when the
// sync found no LFS object.
func lfsLine(l *mirror.LFSReport) string {
	if l == nil {
		return ""
	}
	s := fmt.Sprintf("LFS: %d object(s), %s; %d uploaded (%s), %d already on the destination",
		l.Objects, bytesText(l.Bytes), l.Uploaded, bytesText(l.UploadedBytes), l.Present)
	if !l.Complete() {
		s += fmt.Sprintf("; %d (%s) NOT on the destination: %s", l.Missing, bytesText(l.MissingBytes), oneLine(l.Reason))
	}
	return s
}

func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// lfsError says that LFS objects are missing on the destination: the
// mirror is incomplete, which counts like a ref out of sync (exit 1).
type lfsError struct{ missing int }

func (e *lfsError) Error() string {
	return fmt.Sprintf("%d LFS object(s) are not on the destination (see above); the refs were reported one by one", e.missing)
}

// lfsMarkdown is lfsLine for the step summary.
func lfsMarkdown(l *mirror.LFSReport) string {
	line := lfsLine(l)
	if line == "" {
		return ""
	}
	if !l.Complete() {
		return "\n> [!WARNING]\n> " + md(line) + "\n"
	}
	return "\n" + md(line) + "\n"
}
