package mirror

import (
	"net/http"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
)

// capNoThin is receive-pack's "no-thin": the server cannot complete a thin
// pack (go-git's receive-pack, behind the local paths the CLI serves, says
// so), so the source is asked for a full one.
const capNoThin = "no-thin"

// refusedStream reports whether resp refuses req because its body was
// streamed without a length (chunked): 411 Length Required, or a 400 to a
// chunked POST, which Go's net/http/cgi (in front of some hand-made Git
// servers) answers with "Chunked request bodies are not supported by CGI".
func refusedStream(req *http.Request, resp *http.Response) bool {
	return req.Method == http.MethodPost && req.ContentLength < 0 &&
		(resp.StatusCode == http.StatusLengthRequired || resp.StatusCode == http.StatusBadRequest)
}

// lengthError records that this remote wants pushes with a length and says
// so. The error is transient: the sync's next attempt spools the pack to a
// temporary file first, and sends it with its Content-Length.
func (r *remote) lengthError(err error) error {
	r.needLength = true
	return failure.Wrap(failure.Network, err,
		"%s %s refused a push streamed without a length (chunked transfer encoding); the next attempt sends the pack with its length", r.side, r.url)
}
