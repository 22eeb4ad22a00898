package actioncmd

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// parse runs the flag and input layers as run does, for an environment and
// arguments.
func parse(env map[string]string, args []string) (mirror.Options, error) {
	getenv := func(k string) string { return env[k] }
	flags, err := parseFlags(args, &strings.Builder{})
	if err != nil {
		return mirror.Options{}, err
	}
	get := func(name string) string {
		if v, ok := flags[name]; ok {
			return v
		}
		return strings.TrimSpace(getenv("INPUT_" + strings.ToUpper(name)))
	}
	return parseOptions(get, getenv, readSecrets(getenv))
}

func TestParseOptionsDefaults(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"GITHUB_REPOSITORY":  "octo/repo",
		"GITHUB_SERVER_URL":  "https://github.com",
		"INPUT_DESTINATION":  "gitee/octo/repo",
		"INPUT_GITHUB-TOKEN": "ghs_tok",
		"DESTINATION_TOKEN":  "gitee_tok",
		"INPUT_SOME-UNKNOWN": "ignored",
		// An input given as empty takes its default, as when absent.
		"INPUT_SOURCE-TOKEN":    "",
		"INPUT_TIMEOUT":         "",
		"INPUT_CACHE-PATH":      "",
		"INPUT_DRY-RUN":         "",
		"INPUT_PRUNE":           "",
		"INPUT_FORCE":           "",
		"INPUT_TAGS":            "",
		"INPUT_BRANCHES":        "",
		"INPUT_GITEE-URL":       "",
		"INPUT_GITHUB-URL":      "",
		"INPUT_SOURCE":          "",
		"INPUT_SOURCE-USERNAME": "",
	}
	got, err := parse(env, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := mirror.Options{
		Source:    mirror.Endpoint{URL: "https://github.com/octo/repo.git", Username: "x-access-token", Token: "ghs_tok"},
		Target:    mirror.Endpoint{URL: "https://gitee.com/octo/repo.git", Username: "octo", Token: "gitee_tok"},
		Prune:     true,
		Timeout:   30 * time.Minute,
		UserAgent: userAgent,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", got, want)
	}
}

// TestActionsAndFlagsAgree: the same inputs from a workflow's with: block
// and from the command line give the same options.
func TestActionsAndFlagsAgree(t *testing.T) {
	t.Parallel()
	base := map[string]string{"GITHUB_REPOSITORY": "octo/repo", "SOURCE_TOKEN": "s", "DESTINATION_TOKEN": "d"}
	tests := map[string]map[string]string{
		"minimal": {"destination": "gitee/octo/repo"},
		"everything": {
			"source": "https://git.example.com/a/b.git", "destination": "github/other/b",
			"source-username": "alice", "destination-username": "bob",
			"branches": "main, release/*\n!release/old", "tags": "v*", "force": "yes", "prune": "0",
			"dry-run": "TRUE", "timeout": "1h30m", "cache-path": "/tmp/cache",
			"github-url": "https://ghe.example.com/", "gitee-url": "https://gitee.example.com",
		},
		"no tags": {"destination": "gitee/octo/repo", "tags": "false"},
	}
	for name, inputs := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			cliEnv := map[string]string{}
			for k, v := range env {
				cliEnv[k] = v
			}
			var args []string
			for k, v := range inputs {
				env["INPUT_"+strings.ToUpper(k)] = v
				args = append(args, "--"+k+"="+v)
			}
			fromEnv, err := parse(env, nil)
			if err != nil {
				t.Fatalf("from INPUT_ variables: %v", err)
			}
			fromFlags, err := parse(cliEnv, args)
			if err != nil {
				t.Fatalf("from flags: %v", err)
			}
			if !reflect.DeepEqual(fromEnv, fromFlags) {
				t.Errorf("options differ:\n env   %+v\n flags %+v", fromEnv, fromFlags)
			}
		})
	}
}

func TestParseOptions(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		env   map[string]string
		args  []string
		check func(t *testing.T, o mirror.Options)
	}{
		"branch and tag globs, commas and newlines": {
			args: []string{"--destination=gitee/o/r", "--branches= main ,release/*\n\n!release/old,", "--tags=v*\r\n!v0*"},
			check: func(t *testing.T, o mirror.Options) {
				if got, want := o.Branches, []string{"main", "release/*", "!release/old"}; !reflect.DeepEqual(got, want) {
					t.Errorf("branches = %q, want %q", got, want)
				}
				if got, want := o.Tags, []string{"v*", "!v0*"}; !reflect.DeepEqual(got, want) {
					t.Errorf("tags = %q, want %q", got, want)
				}
			},
		},
		"tags false turns tags off": {
			args: []string{"--destination=gitee/o/r", "--tags=False"},
			check: func(t *testing.T, o mirror.Options) {
				if !o.NoTags || o.Tags != nil {
					t.Errorf("NoTags = %v, Tags = %q; want true, nil", o.NoTags, o.Tags)
				}
			},
		},
		"tags true means all": {
			args: []string{"--destination=gitee/o/r", "--tags=true"},
			check: func(t *testing.T, o mirror.Options) {
				if o.NoTags || o.Tags != nil {
					t.Errorf("NoTags = %v, Tags = %q; want false, nil", o.NoTags, o.Tags)
				}
			},
		},
		"bare bool flags and explicit false": {
			args: []string{"--destination=gitee/o/r", "--force", "--dry-run", "--prune=false"},
			check: func(t *testing.T, o mirror.Options) {
				if !o.Force || !o.DryRun || o.Prune {
					t.Errorf("force, dry-run, prune = %v, %v, %v; want true, true, false", o.Force, o.DryRun, o.Prune)
				}
			},
		},
		"flag wins over INPUT_ variable": {
			env:  map[string]string{"INPUT_DESTINATION": "gitee/a/b", "INPUT_TIMEOUT": "5m"},
			args: []string{"--destination=gitee/o/r"},
			check: func(t *testing.T, o mirror.Options) {
				if o.Target.URL != "https://gitee.com/o/r.git" || o.Timeout != 5*time.Minute {
					t.Errorf("target %q timeout %v", o.Target.URL, o.Timeout)
				}
			},
		},
		"github token only for GitHub sides": {
			env:  map[string]string{"GITHUB_TOKEN": "gh"},
			args: []string{"--source=gitee/o/r", "--destination=github/o/r"},
			check: func(t *testing.T, o mirror.Options) {
				if o.Source.Token != "" || o.Source.Username != "" {
					t.Errorf("gitee source got %+v; want no credentials", o.Source)
				}
				if o.Target.Token != "gh" || o.Target.Username != "x-access-token" {
					t.Errorf("github target got %+v", o.Target)
				}
			},
		},
		"own token wins over github token": {
			env:  map[string]string{"GITHUB_TOKEN": "gh", "INPUT_SOURCE-TOKEN": "mine", "SOURCE_TOKEN": "env"},
			args: []string{"--source=github/o/r", "--destination=gitee/o/r"},
			check: func(t *testing.T, o mirror.Options) {
				if o.Source.Token != "mine" {
					t.Errorf("source token %q, want the input's", o.Source.Token)
				}
			},
		},
		"explicit usernames": {
			env:  map[string]string{"SOURCE_TOKEN": "s", "DESTINATION_TOKEN": "d"},
			args: []string{"--source=github/o/r", "--destination=gitee/org/r", "--source-username=me", "--destination-username=bot"},
			check: func(t *testing.T, o mirror.Options) {
				if o.Source.Username != "me" || o.Target.Username != "bot" {
					t.Errorf("usernames %q, %q", o.Source.Username, o.Target.Username)
				}
			},
		},
		"default source follows GITHUB_SERVER_URL": {
			env:  map[string]string{"GITHUB_REPOSITORY": "corp/app", "GITHUB_SERVER_URL": "https://ghe.corp.example"},
			args: []string{"--destination=gitee/corp/app"},
			check: func(t *testing.T, o mirror.Options) {
				if got, want := o.Source.URL, "https://ghe.corp.example/corp/app.git"; got != want {
					t.Errorf("source %q, want %q", got, want)
				}
			},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"GITHUB_REPOSITORY": "o/src"}
			for k, v := range tt.env {
				env[k] = v
			}
			o, err := parse(env, tt.args)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, o)
		})
	}
}

func TestParseOptionsErrors(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		env   map[string]string
		args  []string
		input string // the input the error must name
		want  string // and a part of its message
	}{
		"bad boolean":             {args: []string{"--destination=gitee/o/r", "--force=maybe"}, input: "force", want: "want true or false"},
		"bad boolean from env":    {env: map[string]string{"INPUT_PRUNE": "enabled"}, args: []string{"--destination=gitee/o/r"}, input: "prune", want: `got "enabled"`},
		"bad dry-run":             {args: []string{"--destination=gitee/o/r", "--dry-run=2"}, input: "dry-run"},
		"bad timeout":             {args: []string{"--destination=gitee/o/r", "--timeout=30"}, input: "timeout", want: "positive duration"},
		"negative timeout":        {args: []string{"--destination=gitee/o/r", "--timeout=-5m"}, input: "timeout"},
		"bad glob":                {args: []string{"--destination=gitee/o/r", "--branches=main,[oops"}, input: "branches", want: "not a valid glob"},
		"bare exclusion":          {args: []string{"--destination=gitee/o/r", "--tags=!"}, input: "tags"},
		"missing destination":     {input: "destination", want: "required"},
		"no source outside a run": {env: map[string]string{"GITHUB_REPOSITORY": ""}, args: []string{"--destination=gitee/o/r"}, input: "source", want: "GITHUB_REPOSITORY"},
		"same repository":         {args: []string{"--source=gitee/o/r", "--destination=https://gitee.com/o/r.git"}, input: "destination", want: "same repository"},
		"bad gitee-url":           {args: []string{"--destination=gitee/o/r", "--gitee-url=gitee.com"}, input: "gitee-url"},
		"token in gitee-url":      {args: []string{"--destination=gitee/o/r", "--gitee-url=https://u:p@gitee.com"}, input: "gitee-url", want: "credentials"},
		"token with a line break": {env: map[string]string{"DESTINATION_TOKEN": "abc\ndef"}, args: []string{"--destination=gitee/o/r"}, input: "destination-token"},
		"token as a flag":         {args: []string{"--destination=gitee/o/r", "--source-token", "x"}, input: "source-token", want: "SOURCE_TOKEN"},
		"github-token as a flag":  {args: []string{"-github-token=x"}, input: "github-token", want: "GITHUB_TOKEN"},
		"unknown flag":            {args: []string{"--destinaton=gitee/o/r"}, want: "destinaton"},
		"stray argument":          {args: []string{"gitee/o/r"}, want: "unexpected argument"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"GITHUB_REPOSITORY": "o/src"}
			for k, v := range tt.env {
				env[k] = v
			}
			_, err := parse(env, tt.args)
			var in *inputError
			if !errors.As(err, &in) {
				t.Fatalf("err = %v, want an *inputError", err)
			}
			if in.name != tt.input {
				t.Errorf("error names input %q, want %q (%v)", in.name, tt.input, err)
			}
			if tt.input != "" && !strings.Contains(err.Error(), `"`+tt.input+`"`) {
				t.Errorf("message %q does not name %q", err, tt.input)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("message %q does not contain %q", err, tt.want)
			}
			if got := exitCode(err); got != exitUsage {
				t.Errorf("exit code %d, want %d", got, exitUsage)
			}
		})
	}
}

func TestBoolean(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{"true": true, "True": true, "yes": true, "YES": true, "1": true, "false": false, "No": false, "0": false} {
		got, err := boolean("force", in)
		if err != nil || got != want {
			t.Errorf("boolean(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "on", "off", "y", "truee", "2"} {
		if _, err := boolean("force", in); err == nil {
			t.Errorf("boolean(%q) accepted", in)
		}
	}
}

// A run started by a push to a branch of the source repository tells the
// sync which commit the branch now has (mirror.Options.Hints); no other
// run does.
func TestPushHint(t *testing.T) {
	t.Parallel()
	sha := strings.Repeat("a1", 20)
	tests := map[string]struct {
		env  map[string]string
		want map[string]string
	}{
		"push to a branch":      {map[string]string{}, map[string]string{"refs/heads/main": sha}},
		"source given as input": {map[string]string{"INPUT_SOURCE": "github/octo/repo"}, map[string]string{"refs/heads/main": sha}},
		"another source":        {map[string]string{"INPUT_SOURCE": "github/octo/other"}, nil},
		"a schedule":            {map[string]string{"GITHUB_EVENT_NAME": "schedule"}, nil},
		"a tag push":            {map[string]string{"GITHUB_REF": "refs/tags/v1"}, nil},
		"a deletion":            {map[string]string{"GITHUB_SHA": strings.Repeat("0", 40)}, nil},
		"not an object id":      {map[string]string{"GITHUB_SHA": "main"}, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{
				"GITHUB_REPOSITORY": "octo/repo", "GITHUB_SERVER_URL": "https://github.com",
				"GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/main", "GITHUB_SHA": sha,
				"INPUT_DESTINATION": "gitee/octo/repo", "INPUT_GITHUB-TOKEN": "ghs_tok", "DESTINATION_TOKEN": "gitee_tok",
				"SOURCE_TOKEN": "ghs_tok",
			}
			for k, v := range tc.env {
				env[k] = v
			}
			got, err := parse(env, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Hints, tc.want) {
				t.Errorf("hints = %v, want %v", got.Hints, tc.want)
			}
		})
	}
}
