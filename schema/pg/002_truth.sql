-- depositd schema v2, PostgreSQL dialect (see 001_initial.sql here and
-- ../002_truth.sql for the meaning).

ALTER TABLE deposits ADD COLUMN changes bigint NOT NULL DEFAULT 0;
ALTER TABLE deposits ADD COLUMN finality text COLLATE "C";
UPDATE deposits SET changes = (SELECT count(*) FROM events e WHERE e.deposit_id = deposits.id);

-- SQLite rebuilt events to drop UNIQUE (deposit_id, type); here it is one statement.
ALTER TABLE events DROP CONSTRAINT events_deposit_type;
CREATE INDEX events_by_type ON events (type, seq);

ALTER TABLE chain_cursors
    ADD COLUMN block_height bigint,
    ADD COLUMN finalized bigint,
    ADD COLUMN status text COLLATE "C",
    ADD COLUMN last_error text COLLATE "C",
    ADD COLUMN last_success_at bigint;

CREATE INDEX bindings_by_address_time ON bindings (address_id, bound_at);

-- Row counts kept current by triggers (see ../002_truth.sql). On PostgreSQL
-- these few rows are hot: every writer of an address, deposit or event
-- updates one, so concurrent writers queue on its row lock (and SERIALIZABLE
-- units touching the same counter retry). One writer per chain and claimed
-- deliveries keep that modest; if it is not, delta rows summed on read are
-- the way out.
CREATE TABLE counters (
    kind  text    COLLATE "C" NOT NULL,
    a     text    COLLATE "C" NOT NULL,
    b     text    COLLATE "C" NOT NULL,
    n     bigint  NOT NULL,
    PRIMARY KEY (kind, a, b)
);
INSERT INTO counters SELECT 'pool', protocol, state, count(*) FROM addresses GROUP BY protocol, state;
INSERT INTO counters SELECT 'deposits', chain_id, status, count(*) FROM deposits GROUP BY chain_id, status;
INSERT INTO counters SELECT 'events', status, '', count(*) FROM events GROUP BY status;

-- One function per counted table: the kind and the key columns differ.
CREATE FUNCTION counters_addresses() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        UPDATE counters SET n = n - 1 WHERE kind = 'pool' AND a = OLD.protocol AND b = OLD.state;
    END IF;
    INSERT INTO counters VALUES ('pool', NEW.protocol, NEW.state, 1)
        ON CONFLICT (kind, a, b) DO UPDATE SET n = counters.n + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER counters_addresses_insert AFTER INSERT ON addresses
    FOR EACH ROW EXECUTE FUNCTION counters_addresses();
CREATE TRIGGER counters_addresses_update AFTER UPDATE OF state ON addresses
    FOR EACH ROW WHEN (OLD.state <> NEW.state) EXECUTE FUNCTION counters_addresses();

CREATE FUNCTION counters_deposits() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        UPDATE counters SET n = n - 1 WHERE kind = 'deposits' AND a = OLD.chain_id AND b = OLD.status;
    END IF;
    INSERT INTO counters VALUES ('deposits', NEW.chain_id, NEW.status, 1)
        ON CONFLICT (kind, a, b) DO UPDATE SET n = counters.n + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER counters_deposits_insert AFTER INSERT ON deposits
    FOR EACH ROW EXECUTE FUNCTION counters_deposits();
CREATE TRIGGER counters_deposits_update AFTER UPDATE OF status ON deposits
    FOR EACH ROW WHEN (OLD.status <> NEW.status) EXECUTE FUNCTION counters_deposits();

CREATE FUNCTION counters_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        UPDATE counters SET n = n - 1 WHERE kind = 'events' AND a = OLD.status AND b = '';
    END IF;
    INSERT INTO counters VALUES ('events', NEW.status, '', 1)
        ON CONFLICT (kind, a, b) DO UPDATE SET n = counters.n + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER counters_events_insert AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION counters_events();
CREATE TRIGGER counters_events_update AFTER UPDATE OF status ON events
    FOR EACH ROW WHEN (OLD.status <> NEW.status) EXECUTE FUNCTION counters_events();
