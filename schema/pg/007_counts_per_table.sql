-- depositd schema 007, PostgreSQL dialect (see ../007_counts_per_table.sql):
-- deposits are counted once, by deposit_counts (003); the pool and the
-- events get a count table each, and `counters` (002) goes. Counts move over
-- as they are, not recounted.

CREATE TABLE pool_counts (
    protocol text    COLLATE "C" NOT NULL,
    state    text    COLLATE "C" NOT NULL,
    n        bigint  NOT NULL,
    PRIMARY KEY (protocol, state)
);
INSERT INTO pool_counts (protocol, state, n) SELECT a, b, n FROM counters WHERE kind = 'pool';

CREATE TABLE event_counts (
    status text    COLLATE "C" NOT NULL PRIMARY KEY,
    n      bigint  NOT NULL
);
INSERT INTO event_counts (status, n) SELECT a, n FROM counters WHERE kind = 'events';

DROP TRIGGER counters_addresses_insert ON addresses;
DROP TRIGGER counters_addresses_update ON addresses;
DROP TRIGGER counters_deposits_insert ON deposits;
DROP TRIGGER counters_deposits_update ON deposits;
DROP TRIGGER counters_events_insert ON events;
DROP TRIGGER counters_events_update ON events;
-- The functions of those triggers (002), used by nothing else.
DROP FUNCTION counters_addresses();
DROP FUNCTION counters_deposits();
DROP FUNCTION counters_events();
DROP TABLE counters;

-- One function per trigger, named after it.
CREATE FUNCTION pool_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO pool_counts (protocol, state, n) VALUES (NEW.protocol, NEW.state, 1)
        ON CONFLICT (protocol, state) DO UPDATE SET n = pool_counts.n + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER pool_counts_insert AFTER INSERT ON addresses
    FOR EACH ROW EXECUTE FUNCTION pool_counts_insert();

CREATE FUNCTION pool_counts_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE pool_counts SET n = n - 1 WHERE protocol = OLD.protocol AND state = OLD.state;
    INSERT INTO pool_counts (protocol, state, n) VALUES (NEW.protocol, NEW.state, 1)
        ON CONFLICT (protocol, state) DO UPDATE SET n = pool_counts.n + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER pool_counts_update AFTER UPDATE OF state ON addresses
    FOR EACH ROW WHEN (OLD.state <> NEW.state) EXECUTE FUNCTION pool_counts_update();

CREATE FUNCTION event_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO event_counts (status, n) VALUES (NEW.status, 1)
        ON CONFLICT (status) DO UPDATE SET n = event_counts.n + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER event_counts_insert AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION event_counts_insert();

CREATE FUNCTION event_counts_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE event_counts SET n = n - 1 WHERE status = OLD.status;
    INSERT INTO event_counts (status, n) VALUES (NEW.status, 1)
        ON CONFLICT (status) DO UPDATE SET n = event_counts.n + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER event_counts_update AFTER UPDATE OF status ON events
    FOR EACH ROW WHEN (OLD.status <> NEW.status) EXECUTE FUNCTION event_counts_update();
