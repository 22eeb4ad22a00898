package mirror

import (
	"fmt"
	"strings"
)

// CheckRefName applies git check-ref-format's rules to a full ref name
// (e.g. "refs/heads/main"). A name that fails is never passed on: a remote
// could otherwise smuggle option-like or path-escaping names into tools that
// trust them.
func CheckRefName(name string) error {
	if name == "" {
		return fmt.Errorf("empty ref name")
	}
	if name == "@" {
		return fmt.Errorf("ref name %q is reserved", name)
	}
	if !strings.HasPrefix(name, "refs/") {
		return fmt.Errorf("ref name %q is not under refs/", name)
	}
	if strings.HasSuffix(name, "/") || strings.HasSuffix(name, ".") {
		return fmt.Errorf("ref name %q ends with %q", name, name[len(name)-1:])
	}
	for _, bad := range []string{"..", "@{", "//"} {
		if strings.Contains(name, bad) {
			return fmt.Errorf("ref name %q contains %q", name, bad)
		}
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c < 0x20 || c == 0x7f {
			return fmt.Errorf("ref name %q contains a control character", name)
		}
		switch c {
		case ' ', '~', '^', ':', '?', '*', '[', '\\':
			return fmt.Errorf("ref name %q contains %q", name, string(c))
		}
	}
	for rest := name; rest != ""; {
		comp, after, _ := strings.Cut(rest, "/")
		rest = after
		if comp == "" {
			return fmt.Errorf("ref name %q has an empty component", name)
		}
		if strings.HasPrefix(comp, ".") {
			return fmt.Errorf("ref name %q has a component starting with %q", name, ".")
		}
		if strings.HasSuffix(comp, ".lock") {
			return fmt.Errorf("ref name %q has a component ending with %q", name, ".lock")
		}
		if strings.HasPrefix(comp, "-") {
			// Not forbidden by Git inside refs/, but a branch or tag that
			// starts with "-" reads as an option to any tool running git.
			return fmt.Errorf("ref name %q has a component starting with %q", name, "-")
		}
	}
	return nil
}
