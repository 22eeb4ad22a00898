-- Webhook delivery ids moved to the inbox, a database file of its own
-- (inbox.go), so that acknowledging a delivery never waits for this one.
DROP TABLE deliveries;
