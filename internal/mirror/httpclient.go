package mirror

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// errCrossHostRedirect stops a redirect to another host: a Git server must not
// be able to send our credentials, or our requests, somewhere else.
var errCrossHostRedirect = errors.New("redirect to another host refused")

// DefaultHTTPClient is used when Options.HTTPClient is nil: sane connection
// timeouts, no overall timeout (a large pack may take long; the sync's
// context bounds it), and redirects only within the same host and scheme.
func DefaultHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = 15 * time.Second
	tr.MaxIdleConnsPerHost = 8
	// Packs are already compressed; transparent gzip only costs CPU.
	tr.DisableCompression = true
	return &http.Client{Transport: tr, CheckRedirect: sameHostRedirects}
}

func sameHostRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return fmt.Errorf("stopped after %d redirects", len(via))
	}
	first := via[0].URL
	if req.URL.Host != first.Host || (first.Scheme == "https" && req.URL.Scheme != "https") {
		return errCrossHostRedirect
	}
	return nil
}
