package webhook

import (
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gitee-mirror/gitee-mirror/internal/metrics"
)

// DefaultMaxBytes is GitHub's payload cap, 25 MiB.
const DefaultMaxBytes = 25 << 20

// readBody reads at most max bytes of the request body; beyond that it
// answers 413 without reading further.
func readBody(c echo.Context, max int64) ([]byte, error) {
	req := c.Request()
	if req.ContentLength > max {
		return nil, tooLarge()
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), req.Body, max))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge()
		}
		return nil, echo.NewHTTPError(http.StatusBadRequest, "error reading the body")
	}
	return body, nil
}

func tooLarge() error {
	return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "the delivery is larger than this server accepts")
}

// verdictOf maps a readBody error to its verdict.
func verdictOf(err error) string {
	var he *echo.HTTPError
	if errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge {
		return VerdictTooLarge
	}
	return VerdictBadRequest
}

// countWebhook counts one delivery, when metrics are on.
func countWebhook(m *metrics.Metrics, source, event, verdict string) {
	if m == nil {
		return
	}
	m.WebhooksReceived.WithLabelValues(source, event, verdict).Inc()
}
