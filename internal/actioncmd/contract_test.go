package actioncmd

import (
	"bufio"
	"fmt"
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
		inForks: defaultForks, inArchived: defaultArchived, inConcurrency: defaultConcurrency, inReleases: defaultReleases,
		inRepositories: "", inInclude: "", inExclude: "", inMappings: "", inAccountType: "", inGiteeAPIURL: "",
		inAllowHTTP: defaultAllowHTTP, inLFS: defaultLFS, inTwoWay: defaultTwoWay,
	}
	for name, want := range defaults {
		if got := inputs[name]; got != want {
			t.Errorf("action.yml default of %s is %q, the code's %q", name, got, want)
		}
	}
	slices.Sort(outputs)
	if want := []string{"changed", "conflicts", "diverged", "failed", "kept", "lfs-objects", "releases", "report"}; !reflect.DeepEqual(outputs, want) {
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

// TestREADMEMatchesContract: the README's tables of inputs, outputs and exit
// codes name exactly what action.yml declares and the code returns, and the
// exit-code table says that kept refs exit 1.
func TestREADMEMatchesContract(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	// First cells of the table rows under each heading, as `name` or N.
	cells := map[string][]string{}
	rows := map[string]string{}
	var table string
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "| Input |") || strings.HasPrefix(line, "| Output |") || strings.HasPrefix(line, "| Exit code |") {
			table = strings.TrimSpace(strings.Split(line, "|")[1])
			continue
		}
		if table == "" || !strings.HasPrefix(line, "|") {
			table = ""
			continue
		}
		first := strings.Trim(strings.TrimSpace(strings.Split(line, "|")[1]), "`")
		if first == "---" {
			continue
		}
		cells[table] = append(cells[table], first)
		rows[table+" "+first] = line
	}
	inputs, outputs := actionYAML(t)
	var declared []string
	for name := range inputs {
		declared = append(declared, name)
	}
	for table, want := range map[string][]string{"Input": declared, "Output": outputs, "Exit code": {"0", "1", "2", "3", "4"}} {
		got := slices.Clone(cells[table])
		slices.Sort(got)
		want = slices.Clone(want)
		slices.Sort(want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("README %s table lists %q, want %q", table, got, want)
		}
	}
	// The Default column: action.yml's default as code, or words (all,
	// detected) where action.yml has none.
	for name, def := range inputs {
		cells := strings.Split(rows["Input "+name], "|")
		if len(cells) < 3 {
			continue // a missing row is reported above
		}
		cell := strings.TrimSpace(cells[2])
		switch {
		case def != "" && cell != "`"+def+"`":
			t.Errorf("README's default of input %s is %q; action.yml's is %q", name, cell, def)
		case def == "" && strings.HasPrefix(cell, "`") && !strings.Contains(cell, "<"):
			t.Errorf("README gives input %s the default %s; action.yml has none", name, cell)
		}
	}
	for _, c := range []int{exitOK, exitRefs, exitUsage, exitSync, exitInternal} {
		if _, ok := rows[fmt.Sprintf("Exit code %d", c)]; !ok {
			t.Errorf("README has no row for exit code %d", c)
		}
	}
	if row := rows[fmt.Sprintf("Exit code %d", exitRefs)]; !strings.Contains(row, "kept by `prune`") || !strings.Contains(row, "diverged") {
		t.Errorf("README exit code 1 row does not name diverged and kept refs: %s", row)
	}
	if strings.Contains(string(data), "HTTPS only") {
		t.Error(`README says "HTTPS only", but http:// is accepted with allow-http`)
	}
}
