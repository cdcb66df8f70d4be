-- depositd schema 012, PostgreSQL dialect (see ../012_claims_apart.sql).
ALTER TABLE events ADD COLUMN claimed_until bigint;
-- A heap-only update needs room on the row's page for its new version:
-- pages of rows inserted from now on are left 20 % free (a row is about a
-- kilobyte with its payload; earlier pages get room as their rows are
-- updated and pruned).
ALTER TABLE events SET (fillfactor = 80);

DROP INDEX events_due;
CREATE INDEX events_due ON events (status, next_attempt_at, seq) WHERE status = 'pending';
DROP INDEX events_due_without_webhooks;
CREATE INDEX events_due_without_webhooks ON events (status, next_attempt_at, seq)
    WHERE status = 'pending' AND kind <> 'webhook';
