package actioncmd

import (
	"errors"
	"strings"
	"testing"
)

// TestInputsAsStrictAsTheApp: the Action's inputs go through the same
// rules as the App's settings file and form (internal/validate): patterns
// no ref can match, 50,000 patterns, 1 MB names and path-like names are
// refused, naming the input.
func TestInputsAsStrictAsTheApp(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		args  []string
		input string
		want  string
	}{
		"a..b branch":       {[]string{"--destination=gitee/o/r", "--branches=a..b"}, inBranches, "no Git ref name holds"},
		"v 1~ tag":          {[]string{"--destination=gitee/o/r", "--tags=v 1~"}, inTags, "no Git ref name holds"},
		"full ref":          {[]string{"--destination=gitee/o/r", "--branches=refs/heads/main"}, inBranches, "short name"},
		"50,000 patterns":   {[]string{"--destination=gitee/o/r", "--branches=" + strings.Repeat("b,", 50000)}, inBranches, "50000 entries; at most 100"},
		"..git":             {[]string{"--destination=gitee/o/..git"}, inDestination, `"." is a path`},
		"...git":            {[]string{"--destination=gitee/o/...git"}, inDestination, `".." is a path`},
		"1 MB name":         {[]string{"--destination=gitee/o/" + strings.Repeat("n", 1<<20)}, inDestination, "191"},
		"gitee leading dot": {[]string{"--destination=gitee/o/.hidden"}, inDestination, "letter or digit"},
		"github owner dot":  {[]string{"--destination=github/o.x/r"}, inDestination, "GitHub names"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := parse(map[string]string{"GITHUB_REPOSITORY": "o/src"}, tc.args)
			var in *inputError
			if !errors.As(err, &in) || in.name != tc.input || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("parse = %.300v, want an error naming %q with %q", err, tc.input, tc.want)
			}
			if err != nil && len(err.Error()) > 500 {
				t.Errorf("error is %d bytes long", len(err.Error()))
			}
		})
	}
}

// TestAccountInputsAsStrict: the account-mode lists are bounded and
// checked the same way.
func TestAccountInputsAsStrict(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		env   map[string]string
		input string
		want  string
	}{
		"2,000 repositories": {map[string]string{"INPUT_REPOSITORIES": strings.Repeat("r,", 2000)}, inRepositories, "at most 1000"},
		"1 MB repository":    {map[string]string{"INPUT_REPOSITORIES": strings.Repeat("r", 1<<20)}, inRepositories, "100"},
		"..git repository":   {map[string]string{"INPUT_REPOSITORIES": "..git"}, inRepositories, `"..git"`},
		"200 include globs":  {map[string]string{"INPUT_INCLUDE": strings.Repeat("a*,", 200)}, inInclude, "at most 100"},
		"include space":      {map[string]string{"INPUT_INCLUDE": "a b*"}, inInclude, "letters, digits"},
		"2,000 mappings":     {map[string]string{"INPUT_MAPPINGS": strings.Repeat("a=>b,", 2000)}, inMappings, "at most 1000"},
		"owner 1 MB":         {map[string]string{"INPUT_SOURCE": "github/" + strings.Repeat("o", 1<<20)}, inSource, "39"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := parseAcct(acctEnv(tc.env), nil)
			var in *inputError
			if !errors.As(err, &in) || in.name != tc.input || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("parse = %.300v, want an error naming %q with %q", err, tc.input, tc.want)
			}
			if err != nil && len(err.Error()) > 500 {
				t.Errorf("error is %d bytes long", len(err.Error()))
			}
		})
	}
}
