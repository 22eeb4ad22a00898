// Package webhook is the App's intake: it verifies GitHub and Gitee webhook
// deliveries, deduplicates GitHub's by delivery id, and turns each into
// store updates and queue requests, answering within milliseconds. No Git or
// API work happens here: a delivery is a hint, and the workers re-read refs
// from both sides.
//
// Each GitHub event type is handled by one small EventHandler in a file of
// its own (push.go, installation.go, …). The GitHub intake verifies the
// signature before anything else, answers 401 on a bad one, 202 for events
// and actions no handler wants, and otherwise records the delivery in the
// inbox (store.Inbox, its own database file) and answers 200 — 503 only
// when the inbox cannot take it. The Forwarder then does the delivery's
// work in arrival order, retrying while the store or queue is unavailable:
// an acknowledgement waits for one small write, never for the main
// database, the queue or a sync.
package webhook

import "github.com/gitee-mirror/gitee-mirror/internal/forge"

// Sources, the "source" label of the webhook metrics and store.Delivery's
// Source.
const (
	SourceGitHub = string(forge.GitHub)
	SourceGitee  = string(forge.Gitee)
)

// Verdicts, the "verdict" label of the webhook metric.
const (
	VerdictAccepted     = "accepted"
	VerdictDuplicate    = "duplicate"
	VerdictIgnored      = "ignored"
	VerdictBadSignature = "bad-signature"
	VerdictTooLarge     = "too-large"
	VerdictBadRequest   = "bad-request"
	VerdictUnavailable  = "unavailable"
	VerdictNotFound     = "not-found"
	VerdictPing         = "ping"
)

// ArchivedReason is the pause reason of the mirrors of an archived GitHub
// repository; unarchiving resumes mirrors paused with exactly this reason.
const ArchivedReason = "the GitHub repository was archived"
