// Package failure classifies what went wrong during a sync so that a person
// (or a retry policy) knows what to do about it.
//
// Every front end (the Action, the App) and every site client (Git smart HTTP,
// Gitee OpenAPI, GitHub REST) reports errors as a *Error carrying one Class.
package failure

import (
	"context"
	"errors"
	"fmt"
)

// Class names a kind of failure. The strings are part of the public contract:
// they appear in the Action's report and outputs and in the App's history.
type Class string

// The classes. Keep in step with DESIGN.md ("Errors").
const (
	Auth        Class = "auth"         // invalid or expired token
	Permission  Class = "permission"   // token valid but lacks a scope or permission
	NotFound    Class = "not-found"    // repository deleted, renamed or never existed
	Diverged    Class = "diverged"     // target moved away from the source; not overwritten
	Rejected    Class = "rejected"     // server refused the update (hook, quota, risk control)
	Timeout     Class = "timeout"      // the sync or a request ran out of time
	Network     Class = "network"      // connection failed, dropped, or server error (5xx)
	RateLimited Class = "rate-limited" // the site asked us to slow down
	Invalid     Class = "invalid"      // bad input: malformed URL, ref name, configuration
	Internal    Class = "internal"     // a bug or an unexpected answer; report it
)

// Transient reports whether a failure of this class may go away by itself, so
// that retrying with backoff is worthwhile.
func (c Class) Transient() bool {
	switch c {
	case Timeout, Network, RateLimited:
		return true
	}
	return false
}

// Error is a classified failure. Message is written for a person: it says what
// is wrong and what to do. It must never contain a secret.
type Error struct {
	Class   Class
	Message string
	Err     error // the underlying cause, if any; also secret-free
}

// Error implements error.
func (e *Error) Error() string {
	if e.Err != nil && e.Message == "" {
		return fmt.Sprintf("%s: %v", e.Class, e.Err)
	}
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Class, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Class, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns a classified error with a message for a person.
func New(c Class, format string, args ...any) *Error {
	return &Error{Class: c, Message: fmt.Sprintf(format, args...)}
}

// Wrap classifies err, adding a message for a person. Wrap returns nil when
// err is nil.
func Wrap(c Class, err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return &Error{Class: c, Message: fmt.Sprintf(format, args...), Err: err}
}

// ClassOf returns the class of the first *Error in err's chain. Context
// deadline errors are Timeout; anything else unclassified is Internal.
func ClassOf(err error) Class {
	if err == nil {
		return ""
	}
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Class
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return Timeout
	}
	return Internal
}

// IsTransient reports whether err is worth retrying.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	return ClassOf(err).Transient()
}
