package jobs

import (
	"net/http"
	"testing"
)

// TestRunnerSharesOneHTTPClient: without a client of its own, the runner
// makes one for every sync to share (a client per sync kept each one's
// idle connections alive for 90 s: 130 MB per replica during a reconcile
// of 10,000 mirrors); a given client is used as it is.
func TestRunnerSharesOneHTTPClient(t *testing.T) {
	t.Parallel()
	b := setupRunner(t)
	custom := &http.Client{}
	tests := map[string]struct {
		client *http.Client
		want   func(*http.Client) bool
	}{
		"made once": {client: nil, want: func(c *http.Client) bool { return c != nil && c.Transport != nil }},
		"as given":  {client: custom, want: func(c *http.Client) bool { return c == custom }},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r, err := NewRunner(RunnerConfig{Store: b.st, Sites: &fakeSites{}, HTTPClient: tt.client, Logger: testLogger(t)})
			if err != nil {
				t.Fatal(err)
			}
			if !tt.want(r.cfg.HTTPClient) {
				t.Errorf("runner's HTTP client = %+v", r.cfg.HTTPClient)
			}
		})
	}
}
