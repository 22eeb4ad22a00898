package config

import (
	"slices"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/secret"
)

// Unknown is a GITEE_MIRROR_* variable Load does not read: most often a
// misspelt one, whose value is then silently not used.
type Unknown struct {
	Name string
	// Closest is the known name nearest to Name by edit distance; "" when
	// none is near enough to be the one meant.
	Closest string
}

// KnownNames lists every GITEE_MIRROR_* variable the App reads, _FILE
// variants included.
func KnownNames() []string {
	names := []string{secret.EnvKeyFile}
	for _, v := range table {
		names = append(names, v.Name)
		if v.File {
			names = append(names, v.Name+"_FILE")
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// UnknownVars returns the GITEE_MIRROR_* variables of environ (as
// os.Environ gives it) that the App does not read, sorted by name, each with
// the closest known name.
func UnknownVars(environ []string) []Unknown {
	known := KnownNames()
	var out []Unknown
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, Prefix) || slices.Contains(known, name) {
			continue
		}
		out = append(out, Unknown{Name: name, Closest: closest(name, known)})
	}
	slices.SortFunc(out, func(a, b Unknown) int { return strings.Compare(a.Name, b.Name) })
	return slices.CompactFunc(out, func(a, b Unknown) bool { return a.Name == b.Name })
}

// closest returns the name in known nearest to name, if it is near enough
// to be a typo of it: at most one edit per five characters of the part
// after the prefix, and at least one.
func closest(name string, known []string) string {
	suffix := strings.TrimPrefix(name, Prefix)
	best, bestD := "", 1+len(suffix)/5+1
	for _, k := range known {
		if d := editDistance(suffix, strings.TrimPrefix(k, Prefix)); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and swaps of neighbours each cost one (SECERT
// is one edit from SECRET). Names are ASCII; bytes suffice.
func editDistance(a, b string) int {
	if len(a) > 128 || len(b) > 128 { // no quadratic work on a hostile name
		return max(len(a), len(b))
	}
	prev2, prev, cur := make([]int, len(b)+1), make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
