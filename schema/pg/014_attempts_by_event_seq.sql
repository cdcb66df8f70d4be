-- depositd schema 014, PostgreSQL dialect (see ../014_attempts_by_event_seq.sql):
-- an attempt names its event by seq, and delivery_attempts_by_event grows
-- at its end instead of at random leaves. Every row is rewritten once, here.
ALTER TABLE delivery_attempts ADD COLUMN event_seq bigint;
UPDATE delivery_attempts a SET event_seq = e.seq FROM events e WHERE e.id = a.event_id;
ALTER TABLE delivery_attempts ALTER COLUMN event_seq SET NOT NULL,
    ADD CONSTRAINT delivery_attempts_event_seq_fkey FOREIGN KEY (event_seq) REFERENCES events (seq);
-- Its foreign key and the index (event_id, id) go with the column.
ALTER TABLE delivery_attempts DROP COLUMN event_id;
CREATE INDEX delivery_attempts_by_event ON delivery_attempts (event_seq, id);
