package forgetest

import (
	"io"
	"net/http"
)

// Stats counts the Git requests the forge received, whatever their outcome
// (refused, failed on purpose or served). Byte counts are bodies as they
// crossed the wire: compressed if the client compressed them, and only what
// was read or written before any refusal or cut.
type Stats struct {
	InfoRefsUploadPack  int // GET info/refs?service=git-upload-pack
	InfoRefsReceivePack int // GET info/refs?service=git-receive-pack
	UploadPackPOSTs     int // fetches, v0 or v2 (and every POST under WithoutProtocolV2)
	ReceivePackPOSTs    int // git's auth probe before a chunked push counts too
	// LsRefs counts upload-pack POSTs in protocol v2 whose command is
	// ls-refs: listings, like InfoRefsUploadPack, not fetches. Their
	// bytes count in UploadPackRequestBytes and UploadPackResponseBytes.
	LsRefs int
	// LsRefsInProcess counts the ls-refs above that the forge answered
	// itself (InProcessRefAdvertisement).
	LsRefsInProcess int
	// InfoRefsInProcess counts the listings above that the forge answered
	// itself (InProcessRefAdvertisement).
	InfoRefsInProcess int

	UploadPackRequestBytes   int64
	UploadPackResponseBytes  int64
	ReceivePackRequestBytes  int64
	ReceivePackResponseBytes int64
}

// Listings counts the ref listings of both services: the GET info/refs of
// protocol v0 and v2 (v2's lists capabilities only) and v2's ls-refs POSTs.
func (s Stats) Listings() int { return s.InfoRefsUploadPack + s.InfoRefsReceivePack + s.LsRefs }

// Stats returns the counts since New or the last ResetStats.
func (f *Forge) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

// ResetStats sets every count to zero.
func (f *Forge) ResetStats() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stats = Stats{}
}

func (f *Forge) countRequest(k kind) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch k {
	case infoRefsUpload:
		f.stats.InfoRefsUploadPack++
	case infoRefsReceive:
		f.stats.InfoRefsReceivePack++
	case uploadPack:
		f.stats.UploadPackPOSTs++
	case receivePack:
		f.stats.ReceivePackPOSTs++
	case lsRefs:
		f.stats.LsRefs++
	}
}

// addBytes counts body bytes as they pass, so Stats is exact even while a
// response is being cut.
func (f *Forge) addBytes(k kind, in, out int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch k {
	case uploadPack:
		f.stats.UploadPackRequestBytes += in
		f.stats.UploadPackResponseBytes += out
	case receivePack:
		f.stats.ReceivePackRequestBytes += in
		f.stats.ReceivePackResponseBytes += out
	}
}

// countReader counts request body bytes.
type countReader struct {
	r io.Reader
	f *Forge
	k kind
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.f.addBytes(c.k, int64(n), 0)
	return n, err
}

func (c *countReader) Close() error { return nil } // the server closes the real body

// countWriter counts response body bytes.
type countWriter struct {
	http.ResponseWriter
	f *Forge
	k kind
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.f.addBytes(c.k, 0, int64(n))
	return n, err
}

// ReadFrom lets the CGI handler stream git's output in large writes instead
// of the 1 KiB ones its bufio.Reader would make.
func (c *countWriter) ReadFrom(r io.Reader) (int64, error) {
	return io.CopyBuffer(struct{ io.Writer }{c}, struct{ io.Reader }{r}, make([]byte, 64<<10))
}

// Unwrap lets http.ResponseController reach the server's writer.
func (c *countWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
