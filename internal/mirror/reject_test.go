package mirror

import (
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
)

// A refusal names the side that refused: in a two-way sync's second leg
// that is the source, and a message saying "the target" sends people to
// the wrong repository.
func TestClassifyRejectionNamesTheSide(t *testing.T) {
	t.Parallel()
	for name, tt := range map[string]struct {
		side, reason, messages string
		class                  failure.Class
		want                   []string
	}{
		"hook on the target": {"target", "pre-receive hook declined", "", failure.Rejected,
			[]string{"the target refused the update (pre-receive hook declined)"}},
		"hook on the source (second leg)": {"source", "pre-receive hook declined", "protected branch", failure.Rejected,
			[]string{"the source refused the update", "the server said: protected branch"}},
		"workflows permission": {"target", "refusing to allow a GitHub App to create or update workflow", "without `workflows` permission", failure.Permission,
			[]string{"`workflows` permission"}},
	} {
		out, class, msg := classifyRejection(tt.side, tt.reason, tt.messages)
		if out != Rejected || class != tt.class {
			t.Errorf("%s: outcome %s class %s, want rejected %s", name, out, class, tt.class)
		}
		for _, w := range tt.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: message %q lacks %q", name, msg, w)
			}
		}
	}
}
