package repoconfig

import (
	"errors"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
)

// FuzzParse: the settings file is written by anyone who can push to the
// repository. No file makes Parse panic or blow up (YAML aliases included);
// every refusal is an Invalid error listing at most maxErrors problems, each
// saying what is wrong; every accepted mirror has a target and a direction.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"mirrors:\n  - target: acme/widget\n    direction: push\n    branches: [main, 'release/*', '!tmp*']\n    tags: false\n",
		"target: acme/widget\ndirection: both\nforce: true\nprune: false\ncreate: false\nvisibility: private\n",
		"mirrors: []\n",
		"",
		"target: acme/..git\n",
		"a: &a [*a, *a]\nb: &b [*a, *a, *a, *a]\nc: [*b, *b, *b, *b]\n",
		"mirrors:\n  - target: a/b\n  - target: a/b\n",
		"target: [1, 2]\nbranches: {x: y}\n",
		"\xff\xfe",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ms, err := Parse(data)
		if err != nil {
			if c := failure.ClassOf(err); c != failure.Invalid {
				t.Fatalf("class %q, want invalid: %v", c, err)
			}
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 || len(es) > maxErrors {
				t.Fatalf("%d problems in %v", len(es), err)
			}
			for _, e := range es {
				if e.Message == "" {
					t.Fatalf("a problem without a message: %+v", e)
				}
			}
			return
		}
		for _, m := range ms {
			if m.GiteeOwner == "" || m.GiteeName == "" || m.Line < 1 || m.Direction == "" {
				t.Fatalf("accepted %+v", m)
			}
		}
	})
}
