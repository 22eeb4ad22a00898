package actioncmd

import (
	"bufio"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// actionYAML reads the inputs (with their defaults) and outputs declared in
// ../action.yml. A line scanner is enough for its two-level layout.
func actionYAML(t *testing.T) (inputs map[string]string, outputs []string) {
	t.Helper()
	f, err := os.Open("../../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	inputs = map[string]string{}
	section, current := "", ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "":
		case !strings.HasPrefix(line, " "):
			section, _, _ = strings.Cut(line, ":")
		case strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "   ") && !strings.HasPrefix(strings.TrimSpace(line), "#"):
			current = strings.TrimSuffix(strings.TrimSpace(line), ":")
			switch section {
			case "inputs":
				inputs[current] = ""
			case "outputs":
				outputs = append(outputs, current)
			}
		case section == "inputs" && strings.HasPrefix(line, "    default:"):
			v := strings.TrimSpace(strings.TrimPrefix(line, "    default:"))
			inputs[current] = strings.Trim(v, `"`)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return inputs, outputs
}

// TestActionYAMLMatchesCode: action.yml declares exactly the inputs the
// binary reads, with the defaults it applies, and the outputs it sets.
func TestActionYAMLMatchesCode(t *testing.T) {
	t.Parallel()
	inputs, outputs := actionYAML(t)
	var code []string
	for _, in := range flagInputs {
		code = append(code, in.name)
	}
	code = append(code, secretInputs...)
	var declared []string
	for name := range inputs {
		declared = append(declared, name)
	}
	slices.Sort(code)
	slices.Sort(declared)
	if !reflect.DeepEqual(declared, code) {
		t.Errorf("action.yml inputs %q\ncode inputs        %q", declared, code)
	}
	defaults := map[string]string{
		inForce: defaultForce, inPrune: defaultPrune, inDryRun: defaultDryRun, inTimeout: defaultTimeout,
		inGiteeURL: defaultGiteeURL, inCreateMissing: defaultCreateMissing, inVisibility: defaultVisibility,
		inForks: defaultForks, inArchived: defaultArchived, inConcurrency: defaultConcurrency,
		inRepositories: "", inInclude: "", inExclude: "", inMappings: "", inAccountType: "", inGiteeAPIURL: "",
	}
	for name, want := range defaults {
		if got := inputs[name]; got != want {
			t.Errorf("action.yml default of %s is %q, the code's %q", name, got, want)
		}
	}
	slices.Sort(outputs)
	if want := []string{"changed", "diverged", "failed", "report"}; !reflect.DeepEqual(outputs, want) {
		t.Errorf("action.yml outputs %q, want %q", outputs, want)
	}
}

// TestFailedOutputOneRepository: with one repository, failed is 0 or 1;
// diverged refs alone do not count as a failure (they have their own count).
func TestFailedOutputOneRepository(t *testing.T) {
	t.Parallel()
	diverged := okResult()
	diverged.Refs = append(diverged.Refs, badResult().Refs[5])
	tests := map[string]struct {
		res  *mirror.Result
		err  error
		want string
	}{
		"in sync":         {res: okResult(), want: "0"},
		"diverged only":   {res: diverged, want: "0"},
		"a ref rejected":  {res: badResult(), want: "1"},
		"the sync failed": {err: failure.New(failure.Auth, "bad token"), want: "1"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, true)
			b.env["INPUT_DESTINATION"] = "gitee/octo/repo"
			b.run(t, actionsArgs, tt.res, tt.err)
			if got := b.outputs(t)["failed"]; got != tt.want {
				t.Errorf("failed = %q, want %q", got, tt.want)
			}
		})
	}
}
