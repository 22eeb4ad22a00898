package actioncmd

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// flagInputs are the inputs a flag may set, with their help text. Tokens are
// absent on purpose.
var flagInputs = []struct {
	name, usage string
	boolean     bool
}{
	{inSource, "source repository: github/OWNER/REPO, gitee/OWNER/REPO, an https:// Git URL or a local path (default: github/$GITHUB_REPOSITORY)", false},
	{inDestination, "destination repository, in the same forms (required)", false},
	{inSourceUsername, "username for source-token (default: x-access-token on GitHub, OWNER on Gitee)", false},
	{inDestinationUsername, "username for destination-token (default: x-access-token on GitHub, OWNER on Gitee)", false},
	{inBranches, "branch globs, comma or newline separated, ! excludes (default: all)", false},
	{inTags, "tag globs, as for branches; false for no tags (default: all)", false},
	{inForce, "overwrite diverged refs on the destination after backing them up (default false)", true},
	{inPrune, "delete destination refs the source no longer has, when nothing is lost (default true)", true},
	{inTwoWay, "two-way sync: source and destination are peers, changes on either side go to the other, a ref changed on both is a conflict; keeps its state in cache-path (default false)", true},
	{inDryRun, "plan and report, change nothing (default false)", true},
	{inTimeout, "time limit for the whole sync (default 30m)", false},
	{inCachePath, "directory that keeps history and last-synced state between runs (default: none)", false},
	{inGitHubURL, "address github/OWNER/REPO resolves against (default: $GITHUB_SERVER_URL, else https://github.com)", false},
	{inGiteeURL, "address gitee/OWNER/REPO resolves against (default: https://gitee.com)", false},
	{inGiteeAPIURL, "Gitee OpenAPI v5 address (default: <gitee-url>/api/v5)", false},
	{inAllowHTTP, "send tokens to plain http:// addresses too (default false: https:// only); prints a warning", true},
	{inLFS, "copy Git LFS objects before the refs: true, false, or required (a ref whose objects could not all be copied is not updated) (default false)", false},
	{inReleases, "after the refs, mirror published releases and their assets (GitHub and Gitee sides only) (default false)", true},
	// Account mode: --source github/OWNER or gitee/OWNER.
	{inRepositories, "account mode: mirror only these repositories, without listing the account (comma or newline separated)", false},
	{inInclude, "account mode: mirror only repositories matching these names or globs", false},
	{inExclude, "account mode: never mirror repositories matching these names or globs (wins over include)", false},
	{inMappings, "account mode: destination names, as SOURCE=>DESTINATION, comma or newline separated", false},
	{inAccountType, "account mode: the source account's type: user, org or enterprise (Gitee) (default: detect)", false},
	{inCreateMissing, "create a missing destination repository (gitee/OWNER/REPO, github/OWNER/REPO or an account) (default true)", true},
	{inVisibility, "visibility of created repositories: private, public or source (default source)", false},
	{inForks, "account mode: mirror forks too (default false)", true},
	{inArchived, "account mode: mirror archived repositories too (default false)", true},
	{inConcurrency, "account mode: repositories mirrored at once (default 4)", false},
}

const usageHead = `Usage: gitee-mirror --destination gitee/OWNER/REPO [--source github/OWNER/REPO] [flags]
       gitee-mirror --source github/OWNER --destination gitee/OWNER [flags]
       gitee-mirror --source ./repo --destination /tmp/mirror.git [flags]
       gitee-mirror demo [--keep]   (a mirror on this machine: no account, token or git)

Mirrors the branches and tags of one Git repository to another, or of every
repository of an account (a user, organisation or Gitee enterprise) to the
same-named repositories of another account.

Tokens are read from the environment, never from flags:
  SOURCE_TOKEN        token for the source (or INPUT_SOURCE-TOKEN)
  DESTINATION_TOKEN   token for the destination (or INPUT_DESTINATION-TOKEN)
  GITHUB_TOKEN        used for a side on the GitHub server that has no token of its own

Each flag may also come from INPUT_<NAME> (e.g. INPUT_DRY-RUN), as GitHub
Actions passes inputs; a flag wins.

Exit status: 0 in sync, 1 some refs (or repositories) not in sync (diverged,
rejected, failed, or kept by prune), 2 bad
input, 3 sync failed (account mode: nothing could run, e.g. listing failed),
4 other error.

Flags:
`

// boolFlag lets a boolean input be given bare (--force) or with a value
// (--prune=false); the value is parsed later, as strictly as an input.
type boolFlag struct{ v *string }

func (f boolFlag) String() string {
	if f.v == nil {
		return ""
	}
	return *f.v
}
func (f boolFlag) Set(s string) error { *f.v = s; return nil }
func (f boolFlag) IsBoolFlag() bool   { return true }

// parseFlags returns the inputs given as flags. With -h it writes the usage
// to help and returns flag.ErrHelp.
func parseFlags(args []string, help io.Writer) (map[string]string, error) {
	if err := refuseTokenFlags(args); err != nil {
		return nil, err
	}
	fs := flag.NewFlagSet("gitee-mirror", flag.ContinueOnError)
	// The flag package's own messages are returned as errors and printed
	// once, by run.
	fs.SetOutput(io.Discard)
	vals := make(map[string]*string, len(flagInputs))
	for _, in := range flagInputs {
		v := new(string)
		vals[in.name] = v
		if in.boolean {
			fs.Var(boolFlag{v}, in.name, in.usage)
		} else {
			fs.StringVar(v, in.name, "", in.usage)
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(help, usageHead)
			fs.SetOutput(help)
			fs.PrintDefaults()
			return nil, err
		}
		return nil, &inputError{msg: err.Error() + " (run with -h for help)"}
	}
	if fs.NArg() > 0 {
		return nil, &inputError{msg: fmt.Sprintf("unexpected argument %q: inputs are flags, e.g. --destination gitee/OWNER/REPO", fs.Arg(0))}
	}
	set := make(map[string]string)
	fs.Visit(func(f *flag.Flag) { set[f.Name] = strings.TrimSpace(*vals[f.Name]) })
	return set, nil
}

// refuseTokenFlags rejects a token given as a flag before the flag package
// sees it, so that no message ever quotes its value.
func refuseTokenFlags(args []string) error {
	for _, a := range args {
		if a == "--" {
			return nil
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") {
			continue
		}
		for _, s := range secretInputs {
			if name == s {
				return &inputError{name: s, msg: fmt.Sprintf("%v; set %s in the environment instead", errTokenFlag, secretEnv(s))}
			}
		}
	}
	return nil
}
