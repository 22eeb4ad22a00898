// Package metrics holds the App's Prometheus collectors, on a registry of
// its own so that tests can create as many as they like.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the App's collectors.
type Metrics struct {
	Registry *prometheus.Registry
	// WebhooksReceived counts deliveries by source (github, gitee), event
	// and verdict (accepted, duplicate, ignored, bad-signature, too-large,
	// bad-request, unavailable).
	WebhooksReceived *prometheus.CounterVec
	// Syncs counts finished syncs by outcome (ok, diverged, failed).
	Syncs *prometheus.CounterVec
	// SyncDuration observes sync wall time in seconds.
	SyncDuration prometheus.Histogram
	// QueueDepth is the number of sync jobs waiting or running.
	QueueDepth prometheus.Gauge
	// InboxPending is the number of accepted webhook deliveries whose work
	// is not done yet; InboxGivenUp those given up after repeated failures.
	InboxPending prometheus.Gauge
	InboxGivenUp prometheus.Gauge
	// InboxForwarded counts deliveries taken from the inbox by source and
	// result (handled, coalesced with a later one's same work, failed,
	// given-up, dropped).
	InboxForwarded *prometheus.CounterVec
}

// New registers the collectors on a fresh registry (plus Go and process
// collectors).
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		WebhooksReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gitee_mirror_webhooks_received_total",
			Help: "Webhook deliveries received, by source, event and verdict.",
		}, []string{"source", "event", "verdict"}),
		Syncs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gitee_mirror_syncs_total",
			Help: "Finished syncs by outcome.",
		}, []string{"outcome"}),
		SyncDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gitee_mirror_sync_duration_seconds",
			Help:    "Wall time of syncs.",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800},
		}),
		QueueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gitee_mirror_queue_depth",
			Help: "Sync jobs waiting or running.",
		}),
		InboxPending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gitee_mirror_webhook_inbox_pending",
			Help: "Accepted webhook deliveries whose work is not done yet.",
		}),
		InboxGivenUp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gitee_mirror_webhook_inbox_given_up",
			Help: "Accepted webhook deliveries given up after repeated failures (kept in the inbox).",
		}),
		InboxForwarded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gitee_mirror_webhook_inbox_forwarded_total",
			Help: "Webhook deliveries taken from the inbox, by source and result.",
		}, []string{"source", "result"}),
	}
	m.Registry.MustRegister(m.WebhooksReceived, m.Syncs, m.SyncDuration, m.QueueDepth,
		m.InboxPending, m.InboxGivenUp, m.InboxForwarded,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
