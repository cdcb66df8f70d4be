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

-- event_counts takes an UPDATE's status changes once per statement (its
-- transition tables), as 010 did for INSERTs: the row trigger ran two
-- statements per delivered event (15 µs of the server's time each delivery
-- in bench/webhook_bench). PostgreSQL allows no transition table on a
-- trigger with a column list, so this one sees every UPDATE of events and
-- counts the rows whose status changed.
CREATE FUNCTION event_counts_update_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO event_counts (status, n)
        SELECT status, sum(d) FROM (
            SELECT o.status, -1 AS d FROM old_rows o JOIN new_rows n ON n.seq = o.seq WHERE o.status <> n.status
            UNION ALL
            SELECT n.status, 1 AS d FROM old_rows o JOIN new_rows n ON n.seq = o.seq WHERE o.status <> n.status
        ) AS moved GROUP BY status HAVING sum(d) <> 0
        ON CONFLICT (status) DO UPDATE SET n = event_counts.n + excluded.n;
    RETURN NULL;
END $$;
DROP TRIGGER event_counts_update ON events;
DROP FUNCTION event_counts_update();
CREATE TRIGGER event_counts_update AFTER UPDATE ON events REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION event_counts_update_rows();
