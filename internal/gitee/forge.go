package gitee

import (
	"context"
	"net/http"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/forge"
)

// What the App's callers find on a Client through forge's capability
// interfaces.
var (
	_ forge.Forge   = (*Client)(nil)
	_ forge.Hooks   = (*Client)(nil)
	_ forge.Account = (*Client)(nil)
)

// PutPushHook implements forge.Hooks: a signature-mode webhook for push and
// tag push events (PutHook).
func (c *Client) PutPushHook(ctx context.Context, owner, name string, id int64, url, secret string) (int64, error) {
	h, err := c.PutHook(ctx, owner, name, id, HookOptions{URL: url, EncryptionType: SignatureMode,
		Password: secret, PushEvents: true, TagPushEvents: true})
	if err != nil {
		return 0, err
	}
	return h.ID, nil
}

// Deliveries reads Gitee webhook deliveries for the App's intake
// (forge.Deliveries).
type Deliveries struct {
	// Window bounds X-Gitee-Timestamp in signature mode; 0 means
	// DefaultWebhookWindow.
	Window time.Duration
}

var _ forge.Deliveries = Deliveries{}

// knownEvents are the events a delivery's label names; others are "other",
// so that a metric label stays bounded.
var knownEvents = map[string]bool{
	EventPush: true, EventTagPush: true,
	"Merge Request Hook": true, "Issue Hook": true, "Note Hook": true,
}

// VerifyDelivery implements forge.Deliveries (VerifyWebhook).
func (d Deliveries) VerifyDelivery(secret string, h http.Header, now time.Time) error {
	return VerifyWebhook(secret, h, now, d.Window)
}

// DeliveryEvent implements forge.Deliveries: the event label is
// X-Gitee-Event when it is one Gitee sends, "other" for any other, and
// "unknown" when absent.
func (Deliveries) DeliveryEvent(h http.Header) (string, forge.DeliveryKind) {
	event := Event(h)
	kind := forge.OtherDelivery
	switch {
	case IsPing(h):
		kind = forge.PingDelivery
	case event == EventPush || event == EventTagPush:
		kind = forge.PushDelivery
	}
	switch {
	case event == "":
		event = "unknown"
	case !knownEvents[event]:
		event = "other"
	}
	return event, kind
}

// PushedRef implements forge.Deliveries.
func (Deliveries) PushedRef(body []byte) string {
	ev, err := ParsePushHook(body)
	if err != nil {
		return ""
	}
	return ev.Ref
}
