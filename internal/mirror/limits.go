package mirror

// Limits on what a Git server may send. Every count or length read from the
// network is checked against one of these (or is already bounded by go-git,
// as pkt-lines are at 65,520 bytes) before it sizes an allocation, so that
// memory stays bounded whatever a broken or hostile server sends. Each is
// far above what real repositories need.
const (
	// maxAdvertisement caps a ref advertisement (GET info/refs). A
	// repository with 500,000 refs advertises about 40 MiB.
	maxAdvertisement = 32 << 20
	// maxNegotiationLines caps the pkt-lines upload-pack may send before the
	// pack (ACK, NAK, shallow), beyond one per "have" we sent.
	maxNegotiationLines = 1024
	// maxReportExtra caps the report-status lines beyond one per command
	// sent (the "unpack" line, options of later protocol versions).
	maxReportExtra = 64
	// maxObjectSize caps a commit or annotated tag (or a delta making one)
	// that the pack scanner inflates into memory. The largest commits in
	// the wild (huge messages, many signatures) are a few MiB.
	maxObjectSize = 32 << 20
	// maxRetainedBodies caps the commit and tag bodies one pack scan keeps
	// as delta bases; past it a delta goes unresolved and its commit stays
	// out of the graph (an ancestry answer is then Unknown, never wrong).
	maxRetainedBodies = 256 << 20
	// maxParents caps the parents of one commit (the largest octopus merge
	// in Linux has 66).
	maxParents = 1024
)
