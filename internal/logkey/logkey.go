// Package logkey declares the App's log attribute keys once, so that logs
// can be searched by them whichever part wrote the line.
package logkey

// Log attribute keys.
const (
	DeliveryID     = "delivery_id"
	Event          = "event"
	Action         = "action"
	InstallationID = "installation_id"
	Repo           = "repo" // side A, owner/name
	Target         = "target"
	MirrorID       = "mirror_id"
	JobID          = "job_id"
	Ref            = "ref"
	Trigger        = "trigger"
	Outcome        = "outcome"
	ErrorClass     = "error_class"
	Error          = "error"

	// A running sync's progress.
	Phase         = "phase"
	Objects       = "objects"
	ReceivedBytes = "received_bytes"
	SentBytes     = "sent_bytes"
	Rate          = "bytes_per_second"
	Elapsed       = "elapsed"
)
