-- depositd schema 014: a delivery attempt names its event by seq.
--
-- delivery_attempts was keyed to its event by id (REFERENCES events (id),
-- indexed by (event_id, id)). Event ids are hashes: each recorded attempt
-- went to a random leaf of that index, so a group commit of 50 deliveries
-- dirtied about 50 index pages, each written whole to the WAL (and its
-- foreign-key check read a random page of events' id index). Events are
-- delivered in about the order they were made, so by seq the attempts of a
-- commit land together at the index's end: 1.6 instead of 3.5 page writes
-- per delivery in bench/webhook_bench (docs/performance.md). The dispatcher
-- writes by seq as well (store/events.cpp, write_attempts).
--
-- SQLite cannot change a column's foreign key in place: the table is
-- rebuilt (migrate.cpp turns foreign keys off around it and checks them
-- after). Every attempt keeps its id, so the order of an event's attempts
-- is unchanged.
CREATE TABLE delivery_attempts_v14 (
    id                INTEGER PRIMARY KEY,
    event_seq         INTEGER NOT NULL REFERENCES events (seq),
    attempted_at      INTEGER NOT NULL,
    status_code       INTEGER,                        -- NULL when no HTTP answer
    latency_ms        INTEGER NOT NULL,
    error             TEXT,
    response_excerpt  TEXT                            -- first KiB of the body
);
INSERT INTO delivery_attempts_v14 (id, event_seq, attempted_at, status_code, latency_ms, error, response_excerpt)
    SELECT a.id, e.seq, a.attempted_at, a.status_code, a.latency_ms, a.error, a.response_excerpt
    FROM delivery_attempts a JOIN events e ON e.id = a.event_id;
DROP TABLE delivery_attempts;
ALTER TABLE delivery_attempts_v14 RENAME TO delivery_attempts;
CREATE INDEX delivery_attempts_by_event ON delivery_attempts (event_seq, id);
