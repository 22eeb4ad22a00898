package actioncmd

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
)

// parseAcct runs the flag and input layers of account mode as run does.
func parseAcct(env map[string]string, args []string) (*accountOptions, error) {
	getenv := func(k string) string { return env[k] }
	flags, err := parseFlags(args, &strings.Builder{})
	if err != nil {
		return nil, err
	}
	get := func(name string) string {
		if v, ok := flags[name]; ok {
			return v
		}
		return strings.TrimSpace(getenv("INPUT_" + strings.ToUpper(name)))
	}
	return parseAccount(get, getenv, readSecrets(getenv))
}

// acctEnv is a workflow's environment for github/octo → gitee/mirror.
func acctEnv(extra map[string]string) map[string]string {
	env := map[string]string{
		"GITHUB_SERVER_URL": "https://github.com",
		"GITHUB_API_URL":    "https://api.github.com",
		"INPUT_SOURCE":      "github/octo",
		"INPUT_DESTINATION": "gitee/mirror",
		"GITHUB_TOKEN":      "ghs_workflow",
		"DESTINATION_TOKEN": "gitee_tok",
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

func TestParseAccountDefaults(t *testing.T) {
	t.Parallel()
	got, err := parseAcct(acctEnv(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := &accountOptions{
		source:        account{role: inSource, site: siteGitHub, owner: "octo", token: "ghs_workflow", tokenInput: inGitHubToken},
		destination:   account{role: inDestination, site: siteGitee, owner: "mirror", token: "gitee_tok", tokenInput: inDestinationToken},
		hosts:         hosts{github: "https://github.com", githubAPI: "https://api.github.com/", gitee: "https://gitee.com", giteeAPI: "https://gitee.com/api/v5"},
		createMissing: true,
		visibility:    visibilitySource,
		concurrency:   4,
		sync:          mirror.Options{Prune: true, Timeout: 30 * time.Minute, UserAgent: userAgent},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", got, want)
	}
}

func TestParseAccountInputs(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		env   map[string]string
		check func(o *accountOptions) any // returns what is compared with want
		want  any
	}{
		"repositories with commas and newlines": {
			env:   map[string]string{"INPUT_REPOSITORIES": "a, b.git\n\nc,\r\nd"},
			check: func(o *accountOptions) any { return o.repositories },
			want:  []string{"a", "b", "c", "d"},
		},
		"include globs lower-cased": {
			env:   map[string]string{"INPUT_INCLUDE": "API-*\n web , [ab]?"},
			check: func(o *accountOptions) any { return o.sel.include },
			want:  []string{"api-*", "web", "[ab]?"},
		},
		"exclude": {
			env:   map[string]string{"INPUT_EXCLUDE": "*-archive,tmp"},
			check: func(o *accountOptions) any { return o.sel.exclude },
			want:  []string{"*-archive", "tmp"},
		},
		"mappings": {
			env:   map[string]string{"INPUT_MAPPINGS": "A=>b, c => D\ne=>e"},
			check: func(o *accountOptions) any { return o.sel.mappings },
			want:  map[string]string{"a": "b", "c": "D", "e": "e"},
		},
		"account-type organization": {
			env:   map[string]string{"INPUT_ACCOUNT-TYPE": "Organization"},
			check: func(o *accountOptions) any { return o.kind },
			want:  forge.Org,
		},
		"account-type enterprise on gitee": {
			env:   map[string]string{"INPUT_ACCOUNT-TYPE": "enterprise", "INPUT_SOURCE": "gitee/corp", "INPUT_DESTINATION": "github/corp", "SOURCE_TOKEN": "t"},
			check: func(o *accountOptions) any { return o.kind },
			want:  forge.Enterprise,
		},
		"switches": {
			env: map[string]string{"INPUT_CREATE-MISSING": "no", "INPUT_FORKS": "yes", "INPUT_ARCHIVED": "1", "INPUT_VISIBILITY": "PUBLIC", "INPUT_CONCURRENCY": "8"},
			check: func(o *accountOptions) any {
				return []any{o.createMissing, o.sel.forks, o.sel.archived, o.visibility, o.concurrency}
			},
			want: []any{false, true, true, "public", 8},
		},
		"self-hosted gitee": {
			env:   map[string]string{"INPUT_GITEE-URL": "https://git.example.com/"},
			check: func(o *accountOptions) any { return []string{o.hosts.gitee, o.hosts.giteeAPI} },
			want:  []string{"https://git.example.com", "https://git.example.com/api/v5"},
		},
		"gitee-api-url": {
			env:   map[string]string{"INPUT_GITEE-API-URL": "https://api.example.com/v5/"},
			check: func(o *accountOptions) any { return o.hosts.giteeAPI },
			want:  "https://api.example.com/v5",
		},
		"github enterprise server from the runner": {
			env:   map[string]string{"GITHUB_SERVER_URL": "https://ghe.example.com", "GITHUB_API_URL": "https://ghe.example.com/api/v3"},
			check: func(o *accountOptions) any { return []string{o.hosts.github, o.hosts.githubAPI} },
			want:  []string{"https://ghe.example.com", "https://ghe.example.com/api/v3/"},
		},
		"github-url other than the runner's": {
			env:   map[string]string{"INPUT_GITHUB-URL": "https://ghe.example.com"},
			check: func(o *accountOptions) any { return o.hosts.githubAPI },
			want:  "https://ghe.example.com/api/v3/",
		},
		"own source token wins over github-token": {
			env:   map[string]string{"SOURCE_TOKEN": "pat"},
			check: func(o *accountOptions) any { return []string{o.source.token, o.source.tokenInput} },
			want:  []string{"pat", inSourceToken},
		},
		"usernames": {
			env:   map[string]string{"INPUT_DESTINATION-USERNAME": "me"},
			check: func(o *accountOptions) any { return o.destination.username },
			want:  "me",
		},
		"policy": {
			env:   map[string]string{"INPUT_TAGS": "false", "INPUT_PRUNE": "false", "INPUT_DRY-RUN": "true"},
			check: func(o *accountOptions) any { return []bool{o.sync.NoTags, o.sync.Prune, o.sync.DryRun} },
			want:  []bool{true, false, true},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			o, err := parseAcct(acctEnv(tt.env), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.check(o); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestParseAccountErrors(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		env   map[string]string
		input string // the input the error must name
		msg   string // part of the message
	}{
		"destination is a repository":  {env: map[string]string{"INPUT_DESTINATION": "gitee/mirror/app"}, input: inDestination, msg: "both sides are accounts"},
		"destination missing":          {env: map[string]string{"INPUT_DESTINATION": ""}, input: inDestination, msg: "required"},
		"same account":                 {env: map[string]string{"INPUT_DESTINATION": "github/OCTO"}, input: inDestination, msg: "same account"},
		"bad owner":                    {env: map[string]string{"INPUT_SOURCE": "github/oc%to"}, input: inSource},
		"no gitee token":               {env: map[string]string{"DESTINATION_TOKEN": ""}, input: inDestinationToken, msg: "DESTINATION_TOKEN"},
		"mapping without arrow":        {env: map[string]string{"INPUT_MAPPINGS": "a->b"}, input: inMappings, msg: "SOURCE=>DESTINATION"},
		"mapping without destination":  {env: map[string]string{"INPUT_MAPPINGS": "a=>"}, input: inMappings},
		"mapping without source":       {env: map[string]string{"INPUT_MAPPINGS": "=>b"}, input: inMappings},
		"mapping with two arrows":      {env: map[string]string{"INPUT_MAPPINGS": "a=>b=>c"}, input: inMappings},
		"mapping to an owner":          {env: map[string]string{"INPUT_MAPPINGS": "a=>other/b"}, input: inMappings, msg: "not a repository name"},
		"source mapped twice":          {env: map[string]string{"INPUT_MAPPINGS": "a=>b\nA=>c"}, input: inMappings, msg: "mapped twice"},
		"two sources to one":           {env: map[string]string{"INPUT_MAPPINGS": "a=>c, b=>C"}, input: inMappings, msg: "both mapped to"},
		"repository with owner":        {env: map[string]string{"INPUT_REPOSITORIES": "octo/app"}, input: inRepositories, msg: "no OWNER/"},
		"repository twice":             {env: map[string]string{"INPUT_REPOSITORIES": "app, App"}, input: inRepositories, msg: "twice"},
		"bad include glob":             {env: map[string]string{"INPUT_INCLUDE": "[ab"}, input: inInclude, msg: "not a valid glob"},
		"include with owner":           {env: map[string]string{"INPUT_INCLUDE": "octo/*"}, input: inInclude},
		"bad exclude glob":             {env: map[string]string{"INPUT_EXCLUDE": "a,[", "INPUT_INCLUDE": "*"}, input: inExclude},
		"unknown account type":         {env: map[string]string{"INPUT_ACCOUNT-TYPE": "team"}, input: inAccountType},
		"enterprise on github":         {env: map[string]string{"INPUT_ACCOUNT-TYPE": "enterprise"}, input: inAccountType, msg: "Gitee only"},
		"unknown visibility":           {env: map[string]string{"INPUT_VISIBILITY": "internal"}, input: inVisibility},
		"zero concurrency":             {env: map[string]string{"INPUT_CONCURRENCY": "0"}, input: inConcurrency},
		"too much concurrency":         {env: map[string]string{"INPUT_CONCURRENCY": "100"}, input: inConcurrency},
		"concurrency not a number":     {env: map[string]string{"INPUT_CONCURRENCY": "four"}, input: inConcurrency},
		"create-missing not a boolean": {env: map[string]string{"INPUT_CREATE-MISSING": "maybe"}, input: inCreateMissing},
		"forks not a boolean":          {env: map[string]string{"INPUT_FORKS": "some"}, input: inForks},
		"archived not a boolean":       {env: map[string]string{"INPUT_ARCHIVED": "2"}, input: inArchived},
		"bad gitee-api-url":            {env: map[string]string{"INPUT_GITEE-API-URL": "ftp://gitee.com"}, input: inGiteeAPIURL},
		"bad policy input":             {env: map[string]string{"INPUT_TIMEOUT": "-1m"}, input: inTimeout},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := parseAcct(acctEnv(tt.env), nil)
			var in *inputError
			if !errors.As(err, &in) {
				t.Fatalf("error %v, want an input error", err)
			}
			if in.name != tt.input || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q names %q, want %q and %q", err, in.name, tt.input, tt.msg)
			}
		})
	}
}

// TestAccountInputsNeedAnAccount: account-only inputs with one repository
// are refused, not ignored.
func TestAccountInputsNeedAnAccount(t *testing.T) {
	t.Parallel()
	for _, name := range accountOnlyInputs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := parse(map[string]string{"GITHUB_REPOSITORY": "octo/app"}, []string{"--destination=gitee/mirror/app", "--" + name + "=user"})
			var in *inputError
			if !errors.As(err, &in) || in.name != name {
				t.Errorf("error %v, want one naming %q", err, name)
			}
		})
	}
}

// TestAccountFlagsAgree: the same inputs from a with: block and from flags
// give the same options.
func TestAccountFlagsAgree(t *testing.T) {
	t.Parallel()
	inputs := map[string]string{
		"source": "gitee/corp", "destination": "github/corp-mirror", "account-type": "enterprise",
		"repositories": "a\nb", "include": "a*", "exclude": "b", "mappings": "a=>x",
		"create-missing": "false", "visibility": "private", "forks": "true", "archived": "true",
		"concurrency": "2", "gitee-url": "https://git.example.com", "gitee-api-url": "https://git.example.com/api/v5",
		"branches": "main", "force": "true", "source-username": "me",
	}
	env := map[string]string{"SOURCE_TOKEN": "s", "GITHUB_TOKEN": "g"}
	cli := map[string]string{"SOURCE_TOKEN": "s", "GITHUB_TOKEN": "g"}
	var args []string
	for k, v := range inputs {
		env["INPUT_"+strings.ToUpper(k)] = v
		args = append(args, "--"+k+"="+v)
	}
	fromEnv, err := parseAcct(env, nil)
	if err != nil {
		t.Fatalf("from INPUT_ variables: %v", err)
	}
	fromFlags, err := parseAcct(cli, args)
	if err != nil {
		t.Fatalf("from flags: %v", err)
	}
	if !reflect.DeepEqual(fromEnv, fromFlags) {
		t.Errorf("options differ:\n env   %+v\n flags %+v", fromEnv, fromFlags)
	}
}

func TestAccountRef(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		site  site
		owner string
		ok    bool
	}{
		"github/octo":      {siteGitHub, "octo", true},
		"gitee/octo/":      {siteGitee, "octo", true},
		"github/octo/repo": {ok: false},
		"github/":          {ok: false},
		"gitlab/octo":      {ok: false},
		"https://x/octo":   {ok: false},
		"":                 {ok: false},
	}
	for in, tt := range tests {
		s, owner, ok := accountRef(in)
		if ok != tt.ok || (ok && (s != tt.site || owner != tt.owner)) {
			t.Errorf("accountRef(%q) = %v, %q, %v", in, s, owner, ok)
		}
	}
}
