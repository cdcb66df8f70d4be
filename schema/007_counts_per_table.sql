-- depositd schema 007: deposits are counted once (issue 20).
--
-- Schema 002 kept one generic `counters` table (kind, a, b) for the pool,
-- the deposits and the events; schema 003 added `deposit_counts` (by chain,
-- currency and status) for the list totals. Deposits were counted twice, by
-- two sets of triggers. From here:
--   deposit_counts  deposits by chain, currency and status: the list totals
--                   and the metrics (summed over currency) alike
--   pool_counts     addresses by protocol and state
--   event_counts    events by delivery status
-- and `counters` is gone. Counts move over as they are (not recounted), so
-- /health, /metrics and `depositctl status` answer exactly as before.

CREATE TABLE pool_counts (
    protocol TEXT    NOT NULL,
    state    TEXT    NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (protocol, state)
) WITHOUT ROWID;
INSERT INTO pool_counts (protocol, state, n) SELECT a, b, n FROM counters WHERE kind = 'pool';

CREATE TABLE event_counts (
    status TEXT    NOT NULL PRIMARY KEY,
    n      INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO event_counts (status, n) SELECT a, n FROM counters WHERE kind = 'events';

DROP TRIGGER counters_addresses_insert;
DROP TRIGGER counters_addresses_update;
DROP TRIGGER counters_deposits_insert;
DROP TRIGGER counters_deposits_update;
DROP TRIGGER counters_events_insert;
DROP TRIGGER counters_events_update;
DROP TABLE counters;

CREATE TRIGGER pool_counts_insert AFTER INSERT ON addresses BEGIN
    INSERT INTO pool_counts (protocol, state, n) VALUES (NEW.protocol, NEW.state, 1)
        ON CONFLICT (protocol, state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER pool_counts_update AFTER UPDATE OF state ON addresses WHEN OLD.state <> NEW.state BEGIN
    UPDATE pool_counts SET n = n - 1 WHERE protocol = OLD.protocol AND state = OLD.state;
    INSERT INTO pool_counts (protocol, state, n) VALUES (NEW.protocol, NEW.state, 1)
        ON CONFLICT (protocol, state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER event_counts_insert AFTER INSERT ON events BEGIN
    INSERT INTO event_counts (status, n) VALUES (NEW.status, 1)
        ON CONFLICT (status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER event_counts_update AFTER UPDATE OF status ON events WHEN OLD.status <> NEW.status BEGIN
    UPDATE event_counts SET n = n - 1 WHERE status = OLD.status;
    INSERT INTO event_counts (status, n) VALUES (NEW.status, 1)
        ON CONFLICT (status) DO UPDATE SET n = n + 1;
END;
