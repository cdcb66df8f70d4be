-- depositd schema 011, PostgreSQL dialect (see ../011_events_due_without_webhooks.sql):
-- the due events a dispatcher without [webhook].url may deliver.
CREATE INDEX events_due_without_webhooks ON events (status, next_attempt_at, seq) WHERE kind <> 'webhook';
