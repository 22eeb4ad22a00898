package actioncmd

import (
	"errors"
	"flag"
	"fmt"
)

// Exit codes. They are part of the public contract: workflows may branch on
// them (e.g. `continue-on-error` plus a step that checks for 1).
const (
	exitOK       = 0 // every in-scope ref is in sync
	exitRefs     = 1 // some refs (or, for an account, repositories) diverged, were rejected, failed or were kept by prune; the others were synced
	exitUsage    = 2 // bad input or flag; nothing was attempted
	exitSync     = 3 // the sync as a whole failed (auth, not-found, network, …); for an account: nothing could run, e.g. listing failed
	exitInternal = 4 // anything else, e.g. the report or outputs could not be written
)

// exitCode maps the error run returned to the process exit status.
func exitCode(err error) int {
	var (
		in    *inputError
		sync  *syncError
		refs  *refsError
		repos *reposError
	)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &in):
		return exitUsage
	case errors.As(err, &sync):
		return exitSync
	case errors.As(err, &refs), errors.As(err, &repos), errors.As(err, new(*releasesError)), errors.As(err, new(*lfsError)):
		return exitRefs
	default:
		return exitInternal
	}
}

// inputError is a bad input or flag. The message names the input and never
// contains a token or a URL that might hold one.
type inputError struct {
	name string // the input, e.g. "force"; "" for a problem with the flags as a whole
	msg  string
}

func inputErrorf(name, format string, args ...any) *inputError {
	return &inputError{name: name, msg: fmt.Sprintf(format, args...)}
}

func (e *inputError) Error() string {
	if e.name == "" {
		return e.msg
	}
	return fmt.Sprintf("invalid input %q: %s", e.name, e.msg)
}

// syncError is a failure of the whole sync, as mirror.Sync returned it.
type syncError struct{ err error }

func (e *syncError) Error() string { return e.err.Error() }
func (e *syncError) Unwrap() error { return e.err }

// refsError says how many refs are not in sync; each was reported already.
type refsError struct{ n int }

func (e *refsError) Error() string {
	if e.n == 1 {
		return "1 ref is not in sync (see above); the other refs were synced"
	}
	return fmt.Sprintf("%d refs are not in sync (see above); the other refs were synced", e.n)
}
