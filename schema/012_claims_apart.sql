-- depositd schema 012: a dispatcher's claim on an event in a column of its
-- own, and the delivery-order indexes hold pending events only.
--
-- A claim (store::claim_due_events) used to move the event's next_attempt_at
-- to the end of the claim. next_attempt_at is in the delivery-order indexes,
-- so every claim rewrote index entries, and on PostgreSQL an update of any
-- indexed column writes a new entry in every index of events (ten): twice
-- per delivery with the attempt's own update. claimed_until is in no index:
-- a claim, its release and the check of an attempt against its claim touch
-- the row alone (on PostgreSQL a heap-only update, schema/pg/012). NULL: not
-- claimed. An event is due when next_attempt_at has come and it is not
-- claimed, or its claim has run out.
ALTER TABLE events ADD COLUMN claimed_until INTEGER;

-- The dispatcher reads events_due and events_due_without_webhooks (011) for
-- pending events only; delivered and failed ones (nearly all of them) were
-- entries it never read, and every delivery wrote one. Now an event leaves
-- them when it is delivered. status stays their first column: SQLite's
-- planner (no statistics) prefers an index with an equality on status, and
-- would otherwise take events_by_status_seq and sort every pending event.
DROP INDEX events_due;
CREATE INDEX events_due ON events (status, next_attempt_at, seq) WHERE status = 'pending';
DROP INDEX events_due_without_webhooks;
CREATE INDEX events_due_without_webhooks ON events (status, next_attempt_at, seq)
    WHERE status = 'pending' AND kind <> 'webhook';
